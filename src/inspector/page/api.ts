import type { WireCheck, WireCustomAnswer, WireList, WireSendResult } from '../wire.js';

/** Raised when the relay refuses the token: the page then shows nothing. */
export class RefusedError extends Error {}

/**
 * The inspector's API. On listen the page's own origin is the credential (loopback,
 * Host and Origin checked); on the relay the channel token goes in the Authorization
 * header, never in a URL.
 */
export class Api {
  constructor(
    readonly base: string,
    private readonly token: string | null,
  ) {}

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token !== null) headers.set('authorization', `Bearer ${this.token}`);
    const res = await fetch(`${this.base}${path}`, { ...init, headers, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) throw new RefusedError(`refused (HTTP ${res.status})`);
    return res;
  }

  private async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.call(path, init);
    const value = (await res.json()) as T & { error?: string };
    if (!res.ok && typeof value.error === 'string') throw new Error(value.error);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return value;
  }

  /** Everything in the window; on the relay `after` asks only for events past that seq. */
  list(after?: number): Promise<WireList> {
    return this.json(after === undefined ? '/requests' : `/requests?after=${after}`);
  }

  check(id: string): Promise<WireCheck> {
    return this.json(`/requests/${encodeURIComponent(id)}/check`);
  }

  async curl(id: string): Promise<string> {
    const res = await this.call(`/requests/${encodeURIComponent(id)}/curl`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  }

  async body(id: string): Promise<Blob> {
    const res = await this.call(`/requests/${encodeURIComponent(id)}/body`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.blob();
  }

  replay(id: string): Promise<WireSendResult> {
    return this.json(`/requests/${encodeURIComponent(id)}/replay`, { method: 'POST' });
  }

  /** The edited body goes as the request's bytes; the server re-signs them. */
  replayEdited(id: string, body: string): Promise<WireSendResult> {
    return this.json(`/requests/${encodeURIComponent(id)}/replay-edited`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
  }

  sendTestEvent(event: string): Promise<WireSendResult> {
    return this.json('/test-event', { method: 'POST', body: JSON.stringify({ event }), headers: { 'content-type': 'application/json' } });
  }

  async clear(): Promise<void> {
    await this.json('/requests', { method: 'DELETE' });
  }

  async har(ids: string[]): Promise<Blob> {
    const res = await this.call('/har', { method: 'POST', body: JSON.stringify({ ids }), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.blob();
  }

  customAnswer(): Promise<WireCustomAnswer | null> {
    return this.json('/answer');
  }

  setCustomAnswer(answer: WireCustomAnswer | null): Promise<WireCustomAnswer | null> {
    return this.json('/answer', {
      method: answer === null ? 'DELETE' : 'PUT',
      body: answer === null ? null : JSON.stringify(answer),
      headers: { 'content-type': 'application/json' },
    });
  }
}

/** Saves a blob as a file through a temporary link (what a download button does). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
