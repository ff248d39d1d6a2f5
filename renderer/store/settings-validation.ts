// The Settings form's checks: the contract's own schema (the host applies the
// same one), with its issues turned into words that fit under a field. zod's
// default messages read like a parser's ("expected number to be >=1").
import { Settings as SettingsSchema, type Settings } from '../../common/contract/settings';

export type SettingsErrors = Partial<Record<keyof Settings, string>>;

interface Issue {
  code: string;
  message: string;
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  inclusive?: boolean;
  expected?: string;
}

export function fieldMessage(issue: Issue): string {
  const text = issue.origin === 'string';
  switch (issue.code) {
    case 'too_small':
      if (text) return issue.minimum === 1 ? 'Cannot be empty' : `At least ${String(issue.minimum)} characters`;
      return issue.inclusive === false ? `Must be more than ${String(issue.minimum)}` : `At least ${String(issue.minimum)}`;
    case 'too_big':
      if (text) return `At most ${String(issue.maximum)} characters`;
      return issue.inclusive === false ? `Must be less than ${String(issue.maximum)}` : `At most ${String(issue.maximum)}`;
    case 'invalid_type':
      if (issue.expected === 'int') return 'A whole number is needed';
      return issue.expected === 'number' ? 'A number is needed' : 'Not a valid value';
    case 'invalid_value':
      return 'Not one of the choices';
    default:
      return issue.message;
  }
}

/** One message per invalid field (the first issue); {} when the draft is valid. */
export function validateSettings(draft: Settings): SettingsErrors {
  const r = SettingsSchema.safeParse(draft);
  if (r.success) return {};
  const errors: SettingsErrors = {};
  for (const issue of r.error.issues) {
    const key = issue.path[0] as keyof Settings | undefined;
    if (key !== undefined && errors[key] === undefined) errors[key] = fieldMessage(issue);
  }
  return errors;
}
