/**
 * Proof-of-work on join (a bot brake). Placeholder until the waiting room documents its nonce format:
 * no parameters are added, which is right for sales without a difficulty.
 */
export async function powParams(_saleId: string, _userId: string): Promise<Record<string, string>> {
  return {};
}
