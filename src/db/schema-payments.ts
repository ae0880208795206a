// Tables owned by the payments module (filled in by its issue).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PaymentTables {}
