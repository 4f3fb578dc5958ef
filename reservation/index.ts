import type { Context } from '../infra/context.js';
import type { Part } from '../infra/part.js';
import { adminRoutes } from './admin-routes.js';
import { reservationRoutes } from './routes.js';
import { startScheduler } from './scheduler.js';
import { startSweeper } from './sweeper.js';

/**
 * The flash-sale core: merchant API (products, sales), shopper reservations, the sale schedule (BullMQ
 * delayed open/close jobs) and the hold sweeper. Other parts use the functions exported here.
 */
export function reservationPart(ctx: Context): Part {
  return {
    name: 'reservation',
    routes: [...adminRoutes(ctx), ...reservationRoutes(ctx)],
    start: async () => {
      const stopScheduler = await startScheduler(ctx);
      const stopSweeper = startSweeper(ctx);
      return async () => {
        await stopSweeper();
        await stopScheduler();
      };
    },
  };
}

export { getSale, saleStats, saleReconciliation, publicSaleView, loadSale, type Sale, type SaleStats } from './sales.js';
export { reserve, releaseHold, getHold, type ReserveInput, type Reservation, type HoldView } from './reservations.js';
export { createSale, openSale, endSale, returnUnsold, saleInput, type SaleInput } from './lifecycle.js';
export { createProduct, getProduct, productInput, type Product } from './products.js';
export { saleTransitions, canTransition, type SaleStatus } from './sale-status.js';
export { scheduleSale, ensureJobs } from './scheduler.js';
export { sweepOnce } from './sweeper.js';
export { saleKeys, activeSalesKey, saleStatusChannel, saleIdOfReservation, parseHoldRecord, holdRecordText, type SaleKeys, type HoldRecord, type HoldStatus } from './keys.js';
export {
  beginCheckout,
  markSold,
  failCheckout,
  reserveScript,
  reserveBatchScript,
  reserveKeys,
  releaseScript,
  expireScript,
  openSaleScript,
  closeSaleScript,
  rebuildSaleScript,
  type SaleRebuilt,
  type CheckoutArgs,
  type CheckoutBegun,
  type ReserveArgs,
  type ReserveReply,
} from './scripts.js';
export { issueAdmissionToken, verifyAdmissionToken, type AdmissionClaims } from './admission-token.js';
