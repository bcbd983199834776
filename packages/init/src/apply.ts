// Installing and removing the capture rules through an IptablesRunner.
import type { CaptureOptions } from './options.ts'
import { applyScript, cleanScript, parseSave } from './restore-script.ts'
import { buildRules, type IpFamily } from './rules.ts'
import type { IptablesRunner } from './runner.ts'

export interface FamilyResult {
  family: IpFamily
  /** What was fed to iptables-restore --noflush; undefined when there was nothing to do. */
  script: string | undefined
}

/** Installs the rules for each family; running it again leaves exactly one copy. */
export async function applyRules(
  options: CaptureOptions,
  runner: IptablesRunner,
  families: readonly IpFamily[] = [4],
): Promise<FamilyResult[]> {
  const results: FamilyResult[] = []
  for (const family of families) {
    const saved = parseSave(await runner.save(family))
    const script = applyScript(buildRules(options, family), saved)
    await runner.restore(family, script)
    results.push({ family, script })
  }
  return results
}

/** Removes our chains and our jumps for each family, and nothing else. */
export async function cleanRules(
  runner: IptablesRunner,
  families: readonly IpFamily[] = [4],
): Promise<FamilyResult[]> {
  const results: FamilyResult[] = []
  for (const family of families) {
    const script = cleanScript(parseSave(await runner.save(family)))
    if (script !== undefined) await runner.restore(family, script)
    results.push({ family, script })
  }
  return results
}
