/** `eventDefinitions`: an event name seen in a project. Unique on `{projectId, name}`. */
export interface EventDefinitionDocument {
  projectId: string;
  name: string;
  firstSeen: Date;
  lastSeen: Date;
  volume: number;
}

/** Where a property key was seen. */
export type PropertyDefinitionKind = 'event' | 'person' | 'group' | 'session';
/** The value type of a property, as PostHog's query builder shows it. */
export type PropertyValueType = 'String' | 'Numeric' | 'Boolean' | 'DateTime';

/** `propertyDefinitions`: a property key seen in a project. Unique on `{projectId, kind, groupTypeIndex, key}`. */
export interface PropertyDefinitionDocument {
  projectId: string;
  kind: PropertyDefinitionKind;
  /** Only for `group` properties; -1 otherwise, so the unique index treats every other kind alike. */
  groupTypeIndex: number;
  /** The key as the SDK sent it (not escaped: it is only ever compared as a value). */
  key: string;
  /** The type of the first value seen. */
  valueType: PropertyValueType;
  firstSeen: Date;
  lastSeen: Date;
  volume: number;
}
