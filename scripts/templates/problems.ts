/** What the template checks report: which file, where in it, which rule, what is wrong. */

export interface TemplateProblem {
  /** e.g. "playbook-templates/enrich-on-demand.playbook.pbx" */
  readonly file: string
  /** e.g. "jobList[2] 'Tag the indicator'" or "exportablePipes[0] > playbookTriggerList[0]" */
  readonly where: string
  /** Stable rule id, e.g. "undeclared-variable" */
  readonly rule: string
  readonly message: string
}

export const formatTemplateProblem = (p: TemplateProblem): string =>
  `${p.file}: ${p.where}: ${p.message} [rule ${p.rule}]`

/** Collects problems for one file; `at` nests locations (an embedded component inside a playbook). */
export class ProblemList {
  constructor(
    readonly file: string,
    private readonly prefix = '',
    /** Shared with the lists made by `at`, so problems found inside land here too. */
    readonly items: TemplateProblem[] = [],
  ) {}

  add(where: string, rule: string, message: string): void {
    this.items.push({ file: this.file, where: this.prefix + where, rule, message })
  }

  /** The same list, with locations under `where`. */
  at(where: string): ProblemList {
    return new ProblemList(this.file, `${this.prefix}${where} > `, this.items)
  }
}
