import type { Queryable } from "../db/client.ts";
import { countDeliveriesByStatus } from "../db/queries/reports-deliveries.ts";
import type { DeliveryStatus } from "../db/schema/reports.ts";

export type { DeliveryStatus };

/**
 * Report deliveries by project and status (queued, sending, sent, failed,
 * gave_up), read from the database so any instance answers for all. Every
 * status is listed for each project that has deliveries, zeros included, so a
 * gauge set from it never keeps a stale value. `failed` rows will be retried;
 * `gave_up` rows will not (without a resend by hand).
 */
export async function reportDeliveryCounts(db: Queryable): Promise<{ projectKey: string; status: DeliveryStatus; count: number }[]> {
  return countDeliveriesByStatus(db);
}
