// A reader of ISO BMFF boxes for tests, written apart from the native one (native/src/fmp4-boxes.cc)
// so that it judges it: the top-level boxes of a buffer, and emsg (ISO/IEC 23009-1 5.10.3.3).
export interface TopLevelBox {
  type: string;
  start: number;
  size: number;
}

export function topLevelBoxes(data: Uint8Array): TopLevelBox[] {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const boxes: TopLevelBox[] = [];
  for (let at = 0; at < view.length; ) {
    let size = view.readUInt32BE(at);
    const type = view.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(view.readBigUInt64BE(at + 8));
    if (size < 8 || at + size > view.length) throw new Error(`box ${type} at ${at} has size ${size} past ${view.length}`);
    boxes.push({ type, start: at, size });
    at += size;
  }
  return boxes;
}

export interface EmsgBox {
  version: number;
  timescale: number;
  presentationTime: number;
  eventDuration: number;
  id: number;
  schemeIdUri: string;
  value: string;
  messageData: Buffer;
}

export function parseEmsg(data: Uint8Array, box: TopLevelBox): EmsgBox {
  const view = Buffer.from(data.buffer, data.byteOffset + box.start, box.size);
  const version = view[8]!;
  if (version !== 1) throw new Error(`emsg version ${version}, expected 1`);
  let at = 12;
  const timescale = view.readUInt32BE(at);
  const presentationTime = Number(view.readBigUInt64BE(at + 4));
  const eventDuration = view.readUInt32BE(at + 12);
  const id = view.readUInt32BE(at + 16);
  at += 20;
  const schemeEnd = view.indexOf(0, at);
  const schemeIdUri = view.toString('utf8', at, schemeEnd);
  const valueEnd = view.indexOf(0, schemeEnd + 1);
  const value = view.toString('utf8', schemeEnd + 1, valueEnd);
  return { version, timescale, presentationTime, eventDuration, id, schemeIdUri, value, messageData: Buffer.from(view.subarray(valueEnd + 1)) };
}
