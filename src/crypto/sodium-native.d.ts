/**
 * Types for the part of `sodium-native` (5.x, libsodium 1.0.21) that src/crypto uses. The
 * DefinitelyTyped package `@types/sodium-native` describes the 2.x API with `Buffer` parameters;
 * 5.x accepts any typed array, so the few functions used here are declared by hand instead.
 * Every function throws on a buffer of the wrong length (an assertion inside the binding):
 * callers check lengths first.
 */
declare module 'sodium-native' {
  interface SodiumNative {
    readonly crypto_sign_BYTES: number;
    readonly crypto_sign_PUBLICKEYBYTES: number;
    readonly crypto_sign_SECRETKEYBYTES: number;
    readonly crypto_sign_SEEDBYTES: number;
    crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
    crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
    /** Reads only the first 64 bytes of `signature` and accepts a longer one: check the length. */
    crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
    crypto_core_ed25519_is_valid_point(point: Uint8Array): boolean;
    randombytes_buf(buffer: Uint8Array): void;
    sodium_memzero(buffer: Uint8Array): void;
  }
  const sodium: SodiumNative;
  export default sodium;
}
