// How /stream reads a notification: as GET /notifications shows it to its owner, in their language.
import type { Notifications } from '../notify/notify.ts';
import type { LiveReader } from './stream-routes.ts';

export function liveNotificationReader(notifications: Pick<Notifications, 'view'>): LiveReader {
  return {
    event: () => 'notification.created',
    read: async (principal, body) => {
      const id = (body.data as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? notifications.view(principal.user_id, id, principal.locale) : null;
    },
  };
}
