// A titled section of a page.
import css from './Card.module.css';

export function Card({ title, children, actions }: { title: string; children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <section className={css.card} aria-label={title}>
      <div className={css.head}>
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function PageTitle({ children }: { children: React.ReactNode }) {
  return <h1 className={css.title}>{children}</h1>;
}

export { css as ui };
