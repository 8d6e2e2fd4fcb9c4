import sharedSetup from '../support/global-setup';
import { ensureBuilt } from '../support/faults';

/** The shared template database, then one build of src/ into dist/faults for every fault test. */
export default async function globalSetup(): Promise<void> {
  await sharedSetup();
  await ensureBuilt();
}
