import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../src/moodle/agent.js';
import { createRestClient } from '../src/moodle/rest-client.js';
import {
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';

let injector: FaultInjector;

beforeAll(async () => {
  injector = await startFaultInjector(behaviours.moodle(moodleBodies.siteInfo));
});

afterAll(async () => {
  await injector.close();
});

describe('createAgent', () => {
  it('keeps one connection alive across successive calls to a site', async () => {
    const agent = createAgent();
    const client = createRestClient({
      dispatcher: agent,
      site: { id: 'peer', url: injector.url, token: 'token123' },
    });
    const before = injector.requests.length;
    for (let call = 0; call < 3; call++) {
      expect((await client.call('core_webservice_get_site_info', {}, { timeoutMs: 2_000 })).ok).toBe(true);
      // undici frees the connection just after the body ends; a call in the same tick would open another.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ports = new Set(injector.requests.slice(before).map((request) => request.remotePort));
    expect(ports.size).toBe(1);
    await agent.close();
  });

  it('closes its connections when closed, as shutdown needs', async () => {
    const agent = createAgent();
    const client = createRestClient({
      dispatcher: agent,
      site: { id: 'peer', url: injector.url, token: 'token123' },
    });
    await client.call('core_webservice_get_site_info', {}, { timeoutMs: 2_000 });
    expect(injector.openConnections()).toBeGreaterThan(0);
    await agent.close();
    await expect.poll(() => injector.openConnections()).toBe(0);
  });
});
