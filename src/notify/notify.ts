// The notify module's face: the only file other modules import. Every message to the outside
// world leaves from here — mail (queued in the caller's transaction, sent by a durable job) and
// signed webhooks (rendered from outbox events by the renderer each module registers) and in-app
// notifications (notify() in the caller's transaction; producers registered per outbox event type).
export { MAIL_JOB, createMailer, enqueueMail, mailJobHandler, startDevMailbox, type DevMailbox, type MailMessage } from './mail.ts';
export { createWebhooks, type EventRenderer, type Webhooks } from './webhooks.ts';
export { webhookRoutes } from './webhook-routes.ts';
export { createNotifications, latestNotifications, notify, notificationDto, NOTIFICATION_CREATED, type NoticeInput, type NoticeProducer, type Notifications, type NotificationDto, type Recipient } from './notifications.ts';
export { notificationRoutes } from './notification-routes.ts';
export type { NoticeParams, Template } from './notification-rules.ts';
export { pruneNotifyRows, type NotifyRetention } from './notify-retention.ts';
