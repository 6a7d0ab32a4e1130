/**
 * The built-in ThreatConnect Playbook apps and operators our templates use, named as the platform's exports
 * name them (programName / displayName / programVersion), with the outputs we read from them.
 */
import type { AppCatalogItem, VariableDeclaration } from './pbx.js'

export const HTTP_CLIENT: AppCatalogItem = { programName: 'TCPB - HTTP Client v2.0', displayName: 'HTTP Client', programVersion: '2.0.15' }
/** The reply body as text. */
export const HTTP_CLIENT_CONTENT: VariableDeclaration = { name: 'http.content', type: 'String' }

/**
 * Json Path: `column_mapping_as_string` rows give String outputs, `column_mapping` rows StringArray outputs,
 * each named by its row key. With null_missing_leaf a path that finds nothing gives null instead of failing.
 */
export const JSON_PATH: AppCatalogItem = { programName: 'TCPB - JsonPath v1.0', displayName: 'Json Path', programVersion: '2.0.7' }

/** If / Else operator: Pass link when the condition holds, Fail link otherwise. */
export const IF_ELSE: AppCatalogItem = { programName: 'If / Else', displayName: 'If / Else', programVersion: '1.0.0' }

export const LOGGER: AppCatalogItem = { programName: 'Logger', displayName: 'Logger', programVersion: '1.0.0' }

export const TAG_CREATE: AppCatalogItem = { programName: 'TCPB - TagCreate v1.0', displayName: 'Create ThreatConnect Tag', programVersion: '1.0.3' }

export const SLACK_MESSAGE: AppCatalogItem = { programName: 'TCPB - Slack Messaging v1.0', displayName: 'Send Slack Message', programVersion: '1.0.1' }

/** What a UserAction trigger hands to the playbook: the indicator the analyst clicked, and about it. */
export const USER_ACTION_OUTPUTS: readonly VariableDeclaration[] = [
  { name: 'trg.action.item', type: 'String' },
  { name: 'trg.action.entity', type: 'TCEntity' },
  { name: 'trg.action.type', type: 'String' },
  { name: 'trg.action.owner', type: 'String' },
]
