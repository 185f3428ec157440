/** Every secret found in anything said, with where: empty when nothing leaked. */
export function findLeaks(secrets: Iterable<string>, said: readonly string[]): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    const at = said.find((text) => text.includes(secret));
    if (at !== undefined) leaks.push(`a secret (${secret.slice(0, 3)}…) appears in: ${at.slice(0, 300)}`);
  }
  return leaks;
}
