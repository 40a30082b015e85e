export { StoreUnavailableError, UnreadableContentError, type ByteRange, type ContentStore, type StoreUnavailableInit } from './content-store.js';
export { UNIXFS_V1_2025, validateProfile, type UnixfsProfile } from './unixfs-profile.js';
export { DEFAULT_KUBO_TIMEOUT_MS, DEFAULT_KUBO_URL, KuboStore, type KuboStoreOptions } from './kubo-store.js';
export { HeliaStore, defaultHeliaDir, heliaImporterOptions, type HeliaStoreOptions } from './helia-store.js';
export { KuboPeersStore, type KuboPeersStoreOptions } from './kubo-peers-store.js';
export { KuboPinReplicator, type PinReplicator } from './pin-replicator.js';
export { KuboPeerSet, PEER_BACKOFF_MS } from './kubo-peer-set.js';
