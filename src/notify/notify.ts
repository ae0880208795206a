// The notify module's face: the only file other modules import. Every message to the outside
// world leaves from here — mail (queued in the caller's transaction, sent by a durable job) and
// signed webhooks (rendered from outbox events by the renderer each module registers).
export { MAIL_JOB, createMailer, enqueueMail, mailJobHandler, startDevMailbox, type DevMailbox, type MailMessage } from './mail.ts';
export { createWebhooks, type EventRenderer, type Webhooks } from './webhooks.ts';
export { webhookRoutes } from './webhook-routes.ts';
