/**
 * Test-only crash points: with NODE_ENV=test and `CUSTOS_FAILPOINTS=rotation.after-apply`, the
 * process kills itself right after that step has committed, as a power cut would, so tests can
 * prove a run resumes where it stopped. Never active outside tests.
 */
export function failpoint(name: string): void {
  if (process.env.NODE_ENV !== 'test') return;
  const armed = process.env.CUSTOS_FAILPOINTS;
  if (!armed || !armed.split(',').includes(name)) return;
  process.kill(process.pid, 'SIGKILL');
}
