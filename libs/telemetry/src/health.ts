export interface ReadinessCheck {
  name: string;
  ready: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
  failing: ReadinessCheck[];
}

const NO_CHECKS: ReadinessCheck = { name: 'checks', ready: false, detail: 'no readiness checks registered yet' };

/**
 * Liveness and readiness of one service, as served on /healthz and /readyz.
 * Live: true from creation until `setLive(false)` (the run loop died; restart me).
 * Ready: true only while at least one named check is registered and every check passes. A service
 * registers its checks as not ready during wiring (e.g. 'kafka-connected', 'partitions-assigned')
 * and flips them as the clients report; on shutdown it marks a check not ready first so traffic
 * stops before the drain.
 */
export class Health {
  #live = true;
  #checks = new Map<string, ReadinessCheck>();

  setLive(live: boolean): void {
    this.#live = live;
  }

  isLive(): boolean {
    return this.#live;
  }

  /** Registers or updates the check `name`. `detail` says why it fails (or what it saw). */
  setReady(name: string, ready: boolean, detail?: string): void {
    this.#checks.set(name, detail === undefined ? { name, ready } : { name, ready, detail });
  }

  readiness(): ReadinessReport {
    const checks = [...this.#checks.values()].map((check) => ({ ...check }));
    const failing = checks.length === 0 ? [NO_CHECKS] : checks.filter((check) => !check.ready);
    return { ready: failing.length === 0, checks, failing };
  }
}

export function createHealth(): Health {
  return new Health();
}
