// npm run build:web: builds web/ into web/dist (src/web/web-build.ts), as `npm start` does when stale.
import { buildWeb } from '../src/web/web-build.ts';

const t0 = Date.now();
const r = await buildWeb((msg) => console.log(msg));
console.log(r === 'built' ? `web app built in ${Date.now() - t0} ms` : 'Vite is not installed: run npm install first');
