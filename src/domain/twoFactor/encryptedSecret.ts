/**
 * A TOTP secret as it is stored: AES-256-GCM ciphertext (base64 fields) bound to its user,
 * with the id of the key that sealed it. The domain never sees how it is sealed.
 */
export type EncryptedSecret = {
  readonly keyId: string;
  readonly nonce: string;
  readonly ciphertext: string;
  readonly tag: string;
};
