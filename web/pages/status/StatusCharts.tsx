// The status page's charts (GET /status/history): per chain, confirmation times p50 / p95 and the
// backlog over the last 24 hours or 7 days, drawn with uPlot. This file is only reached through
// the status page's own chunk, which loads on demand: uPlot never weighs on the first load.
import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type ApiAnswer } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';

type History = ApiAnswer<'/api/v1/status/history', 'get'>;

function Chart({ chain, days, label, lang }: { chain: History['chains'][number]; days: number; label: (k: string) => string; lang: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const pts = chain.points;
    const data: uPlot.AlignedData = [
      pts.map((p) => Date.parse(p.at) / 1000),
      pts.map((p) => p.confirm_p50_s),
      pts.map((p) => p.confirm_p95_s),
      pts.map((p) => p.deposits_confirming),
      pts.map((p) => p.withdrawals_queued),
    ];
    const width = Math.max(280, el.clientWidth);
    // The time axis always spans the period asked for, whatever samples exist: with one sample,
    // uPlot's own range would otherwise stretch over years.
    const now_s = Date.now() / 1000;
    // Times in the reader's language and 24-hour clock (uPlot's own labels are English, 12-hour).
    const at = new Intl.DateTimeFormat(lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const tick = new Intl.DateTimeFormat(lang, days === 1 ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { month: 'numeric', day: 'numeric' });
    const plot = new uPlot({
      width, height: 220,
      scales: { x: { time: true, range: () => [now_s - days * 86_400, now_s] } },
      series: [
        { label: label('time'), value: (_u, v) => (v === null ? '--' : at.format(v * 1000)) },
        { label: label('p50'), stroke: '#1f6feb', scale: 's' },
        { label: label('p95'), stroke: '#a4161a', scale: 's' },
        { label: label('deposits_confirming'), stroke: '#2da44e', scale: 'n' },
        { label: label('withdrawals_queued'), stroke: '#bf8700', scale: 'n' },
      ],
      axes: [{ values: (_u, splits) => splits.map((v) => tick.format(v * 1000)) }, { scale: 's', label: label('seconds') }, { scale: 'n', side: 1, label: label('count'), grid: { show: false } }],
    }, data, el);
    return () => plot.destroy();
  }, [chain, days, label, lang]);
  return <div ref={box} data-testid={`chart-${chain.chain_id}`} aria-label={`${chain.name}`} />;
}

export function StatusCharts() {
  const { t, i18n } = useTranslation();
  const [days, setDays] = useState<1 | 7>(1);
  const q = useQuery({ queryKey: ['status-history', days], queryFn: () => api.get('/api/v1/status/history', { query: { days } }), refetchInterval: 60_000 });
  const label = (k: string) => t(`status_charts.${k}`);
  return (
    <Card title={t('status_charts.title')} actions={<>
      <button type="button" className={days === 1 ? ui.button : ui.secondary} aria-pressed={days === 1} onClick={() => setDays(1)}>{t('status_charts.day')}</button>{' '}
      <button type="button" className={days === 7 ? ui.button : ui.secondary} aria-pressed={days === 7} onClick={() => setDays(7)}>{t('status_charts.week')}</button>
    </>}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.chains.length === 0 ? <Empty>{t('status_page.no_chains')}</Empty> : (
        q.data.chains.map((c) => (
          <section key={c.chain_id}>
            <h3>{c.name}</h3>
            {c.points.length === 0 ? <Empty>{t('status_charts.no_samples')}</Empty> : <Chart chain={c} days={days} label={label} lang={i18n.language} />}
          </section>
        ))
      )}
    </Card>
  );
}
