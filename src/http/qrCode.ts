/** The enrollment URI as a PNG data URL, sized for a setup dialog and readable by phone cameras. */
export async function qrCodeDataUrl(uri: string): Promise<string> {
  // Loaded at the first enrollment, not at every start: no other request draws a QR code.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 256, type: 'image/png' });
}
