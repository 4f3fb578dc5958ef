import { counter } from '../infra/metrics.js';

const reservations = counter('reservations_total', 'Reservation requests of an existing sale, by sale and result (ok, replayed, or the refusal code)', ['sale', 'result']);
const series = new Map<string, ReturnType<typeof reservations.labels>>();

/** Counts one reservation request's result (the labelled series is looked up once per sale and result). */
export function countReservation(saleId: string, result: string): void {
  const key = `${saleId}|${result}`;
  let s = series.get(key);
  if (!s) series.set(key, (s = reservations.labels(saleId, result)));
  s.inc();
}
