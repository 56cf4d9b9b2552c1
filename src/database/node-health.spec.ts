import { healthOf } from './node-health';

const SYNCED = {
  wsrep_provider_name: 'Galera',
  wsrep_ready: 'ON',
  wsrep_local_state: '4',
  wsrep_local_state_comment: 'Synced',
  wsrep_cluster_size: '3',
  wsrep_cluster_status: 'Primary',
};

const status = (values: Record<string, string>) => new Map(Object.entries(values));

describe('healthOf', () => {
  it('should call a Synced node of the primary component healthy', () => {
    expect(healthOf(status(SYNCED), true)).toEqual({
      healthy: true,
      galera: true,
      state: 'Synced',
      clusterSize: 3,
      clusterStatus: 'Primary',
      reason: undefined,
    });
  });

  it.each([
    ['not ready', { wsrep_ready: 'OFF' }],
    ['a donor', { wsrep_local_state: '2', wsrep_local_state_comment: 'Donor/Desynced' }],
    ['joining', { wsrep_local_state: '1', wsrep_local_state_comment: 'Joining' }],
    ['outside the primary component', { wsrep_cluster_status: 'non-Primary' }],
  ])('should call a node that is %s unhealthy, saying why', (_what, change) => {
    const sut = healthOf(status({ ...SYNCED, ...change }), true);
    expect(sut).toMatchObject({ healthy: false, galera: true });
    expect(sut.reason).toBeDefined();
  });

  it('should call a server without Galera (wsrep_on=OFF, no provider) healthy when it answers', () => {
    const plain = {
      wsrep_provider_name: '',
      wsrep_ready: 'OFF',
      wsrep_cluster_status: 'Disconnected',
    };
    expect(healthOf(status(plain), false)).toEqual({ healthy: true, galera: false });
    expect(healthOf(status(plain), true)).toEqual({ healthy: true, galera: false });
  });
});
