/** An order as `GET /api/orders[/:id]` answers (settlement/orders.ts OrderView). */
export interface Order {
  id: string;
  status: string;
  totalCents: number;
  items: Array<{ productId: string; quantity: number; unitPriceCents: number }>;
  createdAt: string;
  /** Flash-sale orders only. */
  saleId?: string;
  /** Failed orders only: declined, unknown, refunded. */
  failureReason?: string;
}
