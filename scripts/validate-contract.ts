/** `npm run validate`: checks app.config.json and layouts/layout.json against each other and the source registry. */
import { ContractError, formatContractProblem } from '../src/errors.js'
import { describeContract, loadContract } from '../src/contract/load.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'

try {
  console.log(describeContract(loadContract({ sources: SOURCE_DEFINITIONS })))
} catch (error) {
  if (!(error instanceof ContractError)) throw error
  for (const problem of error.problems) console.error(formatContractProblem(problem))
  console.error(`contract check failed: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`)
  process.exitCode = 1
}
