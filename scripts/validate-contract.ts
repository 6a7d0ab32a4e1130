/**
 * `npm run validate`: checks app.config.json and layouts/layout.json against each other and the source registry,
 * and says which of tcex's checks do not apply to this contract, and why.
 */
import { ContractError, formatContractProblem } from '../src/errors.js'
import { describeContract, loadContract } from '../src/contract/load.js'
import { TCEX_CHECKS_NOT_APPLIED } from '../src/contract/validate.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'

try {
  console.log(describeContract(loadContract({ sources: SOURCE_DEFINITIONS })))
  console.log(
    "tcex checks not applied (app.config.json is a service and component spec in install.json's shape, not an installable app):",
  )
  for (const [check, why] of Object.entries(TCEX_CHECKS_NOT_APPLIED)) console.log(`  ${check}: ${why}`)
} catch (error) {
  if (!(error instanceof ContractError)) throw error
  for (const problem of error.problems) console.error(formatContractProblem(problem))
  console.error(`contract check failed: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`)
  process.exitCode = 1
}
