import { InMemoryStorage, openStorage } from '../../storage/index.ts';
import { storageContract } from './storage-contract.ts';

storageContract('InMemoryStorage', async () => new InMemoryStorage());
storageContract('openStorage({ kind: "memory" })', () => openStorage({ kind: 'memory' }));
