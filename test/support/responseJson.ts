/** A response body as JSON when it is JSON, else null: tests read bodies by shape in their assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests read bodies by shape in their assertions
export function responseJson(text: string): any {
  try {
    return text.length > 0 ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
