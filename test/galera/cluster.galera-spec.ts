import { GaleraCluster, galeraMissing } from './cluster';

const missing = galeraMissing();
const describeGalera = missing ? describe.skip : describe;
if (missing) console.warn(`Galera suite skipped: ${missing}`);

describeGalera('GaleraCluster (the harness)', () => {
  let cluster: GaleraCluster;

  beforeAll(async () => {
    cluster = await GaleraCluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('should re-join a killed node and bring the cluster back to three', async () => {
    await cluster.kill(3);
    await cluster.waitForSize(2);
    await cluster.restart(3);
    await cluster.waitForSize(3);
    expect(await cluster.status(3)).toMatchObject({ ready: true, localState: 4, clusterSize: 3 });
  });
});
