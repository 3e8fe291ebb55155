import QRCode from 'qrcode';

/** The enrollment URI as a PNG data URL, sized for a setup dialog and readable by phone cameras. */
export function qrCodeDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 256, type: 'image/png' });
}
