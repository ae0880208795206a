// Tables owned by the chain module (filled in by its issue).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ChainTables {}
