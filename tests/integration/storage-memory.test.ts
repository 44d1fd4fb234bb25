import { InMemoryStorage, openStorage } from '../../storage/index.ts';
import { storageContract } from './storage-contract.ts';
import { storageTicksContract } from './storage-contract-ticks.ts';
import { storageLeasesContract } from './storage-contract-leases.ts';
import { storageDaemonLockContract } from './storage-contract-daemon-lock.ts';
import { storageAlertsContract } from './storage-contract-alerts.ts';
import { storageFreshnessContract } from './storage-contract-freshness.ts';

storageContract('InMemoryStorage', async () => new InMemoryStorage());
storageContract('openStorage({ kind: "memory" })', () => openStorage({ kind: 'memory' }));
storageTicksContract('InMemoryStorage', async () => new InMemoryStorage());
storageLeasesContract('InMemoryStorage', async () => new InMemoryStorage());
storageDaemonLockContract('InMemoryStorage', async () => new InMemoryStorage());
storageAlertsContract('InMemoryStorage', async () => new InMemoryStorage());
storageFreshnessContract('InMemoryStorage', async () => new InMemoryStorage());
