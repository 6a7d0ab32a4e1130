/**
 * The built-in ThreatConnect Playbook apps and operators our templates use, named as the platform's exports
 * name them (programName / displayName / programVersion), with the outputs we read from them.
 */
import type { AppCatalogItem, VariableDeclaration } from './pbx.js'

/** A 2025 export's version. With fail_on_error a non-2xx reply fails the step (and so the component). */
export const HTTP_CLIENT: AppCatalogItem = {
  programName: 'TCPB - HTTP Client v3.0',
  displayName: 'HTTP Client',
  programVersion: '3.0.8',
}
/** The reply body as text. */
export const HTTP_CLIENT_CONTENT: VariableDeclaration = { name: 'http.content', type: 'String' }

/**
 * JMESPath (the newest version in the 2026 exports): `string_expressions` rows give String outputs,
 * `string_array_expressions` rows StringArray outputs, each named by its row key, from `json_data`.
 */
export const JMESPATH: AppCatalogItem = {
  programName: 'TCPB - JMESPath v3.0',
  displayName: 'JMESPath',
  programVersion: '3.0.13',
}

/** If / Else operator: Pass link when the condition holds, Fail link otherwise. */
export const IF_ELSE: AppCatalogItem = { programName: 'If / Else', displayName: 'If / Else', programVersion: '1.0.0' }

/** Sets named String variables (`variable_mapping`: key -> value), as the 2025-2026 exports' version. */
export const SET_VARIABLE: AppCatalogItem = {
  programName: 'TCPB - SetVariable v1.0',
  displayName: 'Set Variable',
  programVersion: '1.0.17',
}

/**
 * Joins branches: each `output_array` row names an output and one upstream variable; the output takes whichever
 * branch set it (partner templates merge every branch's result before answering the trigger).
 */
export const MERGE: AppCatalogItem = { programName: 'Merge', displayName: 'Merge', programVersion: '1.0.0' }

export const LOGGER: AppCatalogItem = { programName: 'Logger', displayName: 'Logger', programVersion: '1.0.0' }

export const TAG_CREATE: AppCatalogItem = {
  programName: 'TCPB - TagCreate v1.0',
  displayName: 'Create ThreatConnect Tag',
  programVersion: '1.0.11',
}

/** Writes the rating (field_type RATING) or confidence onto the entities: the playbook stores data, not the service. */
export const UPDATE_RATING: AppCatalogItem = {
  programName: 'TCPB - UpdateRating v1.0',
  displayName: 'Update ThreatConnect Threat Rating',
  programVersion: '1.0.11',
}

/** What a UserAction trigger hands to the playbook: the indicator the analyst clicked, and about it. */
export const USER_ACTION_OUTPUTS: readonly VariableDeclaration[] = [
  { name: 'trg.action.item', type: 'String' },
  { name: 'trg.action.entity', type: 'TCEntity' },
  { name: 'trg.action.type', type: 'String' },
  { name: 'trg.action.owner', type: 'String' },
]
