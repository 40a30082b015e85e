// What a CID looks like before anything parses it.

/**
 * Multibase CIDs the stores hand out (base32, base36, base58btc) are letters
 * and digits only, so they need no escaping in a URL or a path; the length
 * bound keeps parsing cheap and rejects what cannot be a CID.
 */
export const CID_SHAPE = /^[A-Za-z0-9]{8,128}$/;
