// Control over a browser context's Socket.IO WebSocket: hold some of the
// page's frames (to open a race window on purpose), or block WebSocket
// altogether (to prove the long-polling fallback). HTTP long-polling
// requests are plain fetches and are never touched here.
import { BrowserContext } from '@playwright/test';

const SOCKET_IO = /\/socket\.io\//;

export class WebSocketGate {
  private holding: RegExp | null = null;
  private held: Array<() => void> = [];
  /** A WebSocket carries Socket.IO traffic (opened directly, or upgraded from polling). */
  carrying = false;

  async install(context: BrowserContext): Promise<void> {
    await context.routeWebSocket(SOCKET_IO, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        // "5" completes an upgrade from polling.
        if (m === '5') this.carrying = true;
        if (this.holding && typeof m === 'string' && this.holding.test(m)) {
          this.held.push(() => server.send(m));
        } else {
          server.send(m);
        }
      });
      server.onMessage((m) => {
        // "0{…}" is the handshake of a connection opened over WebSocket.
        if (typeof m === 'string' && m.startsWith('0{')) this.carrying = true;
        ws.send(m);
      });
      ws.onClose(() => {
        this.carrying = false;
        server.close();
      });
      server.onClose(() => {
        this.carrying = false;
        ws.close();
      });
    });
  }

  /** Page → server frames matching `pattern` wait until `release()`. */
  hold(pattern: RegExp): void {
    this.holding = pattern;
  }

  get heldCount(): number {
    return this.held.length;
  }

  release(): void {
    this.holding = null;
    const held = this.held;
    this.held = [];
    for (const send of held) send();
  }
}

/** Every WebSocket to the Socket.IO endpoint fails at once. */
export async function blockWebSocket(context: BrowserContext): Promise<void> {
  await context.routeWebSocket(SOCKET_IO, (ws) => ws.close({ code: 1011, reason: 'WebSocket blocked by the test' }));
}
