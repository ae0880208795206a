// Copies a text (an address, an API key) and says so for screen readers too.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ui } from './Card.tsx';

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(text).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <button type="button" className={ui.secondary} onClick={() => void copy()} aria-live="polite">
      {copied ? t('common.copied') : (label ?? t('common.copy'))}
    </button>
  );
}
