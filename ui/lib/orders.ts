/** An order as `GET /api/orders[/:id]` answers (settlement/orders.ts OrderView). */
export interface Order {
  id: string;
  status: string;
  totalCents: number;
  items: Array<{ productId: string; quantity: number; unitPriceCents: number }>;
  createdAt: string;
  /** Failed orders only: declined, unknown, refunded. */
  failureReason?: string;
  /** After a declined card: the hold that may still be paid with another card. */
  retry?: { reservationId: string; quantity: number; expiresAt: string };
}
