/**
 * The pay step's payment methods: the bundled PSP simulator's deterministic test cards
 * (settlement/psp/methods.ts), labelled as test cards. A real PSP would put its card form here instead.
 */
export const TEST_CARDS = [
  { id: 'pm_card_ok', label: 'Test card 4242', note: '(simulator: always paid)' },
  { id: 'pm_card_declined', label: 'Test card 0002', note: '(simulator: always declined)' },
  { id: 'pm_card_mastercard', label: 'Test Mastercard 4444', note: '(simulator: always paid)' },
  { id: 'pm_card_flaky', label: 'Test card 3184', note: '(simulator: first try fails, retried)' },
] as const;

/** A shopper's words for why an order failed (the socket's `reason`, or the order's `failureReason`). */
export function failureText(reason: string | undefined): string {
  switch (reason) {
    case 'declined':
    case 'card_declined':
      return 'Your card was declined.';
    case 'unknown':
    case 'payment_unknown':
      return 'The payment provider did not answer, so the payment was cancelled.';
    case 'refunded':
    case 'order_rejected':
      return 'The order could not be recorded; your payment was refunded.';
    case 'payment_rejected':
      return 'The payment provider refused this payment method.';
    default:
      return 'The payment did not go through.';
  }
}
