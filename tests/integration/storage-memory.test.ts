import { InMemoryStorage, openStorage } from '../../storage/index.ts';
import { storageContract } from './storage-contract.ts';
import { storageTicksContract } from './storage-contract-ticks.ts';
import { storageLeasesContract } from './storage-contract-leases.ts';

storageContract('InMemoryStorage', async () => new InMemoryStorage());
storageContract('openStorage({ kind: "memory" })', () => openStorage({ kind: 'memory' }));
storageTicksContract('InMemoryStorage', async () => new InMemoryStorage());
storageLeasesContract('InMemoryStorage', async () => new InMemoryStorage());
