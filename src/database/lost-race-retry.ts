import { isDeadlock, isUniqueViolation } from './dialect';

/**
 * Runs a unit of work again when it lost a race to a concurrent one: a unique violation (both ran
 * past the same existence check) or a deadlock. Each attempt must be a whole transaction; a
 * short random pause, growing with the attempts, lets the winner commit first.
 */
export async function retryLostRaces<T>(unit: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await unit();
    } catch (error) {
      const lostRace = isUniqueViolation(error) || isDeadlock(error);
      if (!lostRace || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
