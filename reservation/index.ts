import type { Context } from '../infra/context.js';
import type { Part } from '../infra/part.js';
import { adminRoutes } from './admin-routes.js';
import { reservationRoutes } from './routes.js';
import { ReserveBatcher } from './batcher.js';
import { SaleScheduler } from './scheduler.js';
import { startSweeper } from './sweeper.js';
import { reservationApi } from './api.js';

/**
 * The flash-sale core: merchant sales API, shopper reservations, the sale schedule (BullMQ
 * delayed open/close jobs) and the hold sweeper. Other parts use the functions exported here.
 */
export function reservationPart(ctx: Context): Part {
  const scheduler = new SaleScheduler(ctx);
  return {
    name: 'reservation',
    routes: [...adminRoutes(ctx, scheduler), ...reservationRoutes(ctx, new ReserveBatcher(ctx))],
    api: reservationApi,
    start: async () => {
      const stopScheduler = await scheduler.start();
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
export { saleStatus, saleEnded, type SaleStatus } from './sale-status.js';
export { holdStatus } from './hold-status.js';
export { SaleScheduler } from './scheduler.js';
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
  type CheckoutArgs,
  type CheckoutBegun,
  type ReserveArgs,
  type ReserveReply,
} from './scripts.js';
export { issueAdmissionToken, verifyAdmissionToken, type AdmissionClaims } from './admission-token.js';
export { checkAccountAge, takeAddressPlace } from './anti-bot.js';
export { ReserveBatcher } from './batcher.js';
