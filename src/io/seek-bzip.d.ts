// Types for seek-bzip 2.x (a CommonJS module without its own), covering what hush uses.
declare module 'seek-bzip' {
  interface ByteInput {
    /** next byte, or -1 at the end */
    readByte(): number;
    read(buffer: Uint8Array, offset: number, length: number): number;
    seek(pos: number): void;
    eof(): boolean;
  }
  interface ByteOutput {
    writeByte(byte: number): void;
  }
  interface Bunzip {
    /**
     * Decodes a whole bzip2 stream. With a ByteOutput, bytes go there and nothing is
     * returned; with `multistream`, concatenated streams are decoded in turn.
     */
    decode(input: Uint8Array | ByteInput, output?: number | Uint8Array | ByteOutput, multistream?: boolean): Buffer | undefined;
  }
  const bunzip: Bunzip;
  export default bunzip;
}
