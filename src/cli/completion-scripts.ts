/**
 * Shell completion scripts, generated from the commander program so they never drift
 * from the real commands and flags (a new command or subcommand completes by itself).
 * Commands, subcommands, flags, event names and a flag's fixed choices complete; flags
 * that take a file complete file names; other values complete nothing.
 */

export type CompletionValue =
  | { kind: 'none' }
  | { kind: 'event' }
  | { kind: 'file' }
  | { kind: 'choices'; choices: readonly string[] }
  | { kind: 'other' };

export interface CompletionOption {
  flag: string;
  description: string;
  /** What its value is: nothing (a switch), an event name, a file path, one of some words, or anything else. */
  value: CompletionValue;
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  /** What its positional arguments are (`generate <event>`, `sign [file]`, `completion <shell>`). */
  positional: CompletionValue;
  /** `captures export`, `channel rotate-token`: completed after their parent's name. */
  subcommands: CompletionCommand[];
}

export interface CompletionSpec {
  commands: CompletionCommand[];
  events: readonly string[];
}

/** A POSIX shell single-quoted word. */
const quoteSingle = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** Every command as a path of names, parents before their subcommands. */
function flatten(commands: readonly CompletionCommand[], parents: string[] = []): Array<{ path: string[]; command: CompletionCommand }> {
  return commands.flatMap((command) => {
    const path = [...parents, command.name];
    return [{ path, command }, ...flatten(command.subcommands, path)];
  });
}

export function bashScript(spec: CompletionSpec): string {
  const words = (value: CompletionValue): string =>
    value.kind === 'event' ? '$events' : value.kind === 'choices' ? value.choices.join(' ') : value.kind === 'file' ? '@files' : '';
  const cases = flatten(spec.commands)
    .map(({ path, command: c }) => {
      const valueCases = c.options
        .filter((o) => o.value.kind !== 'none')
        .map((o) => {
          const reply =
            o.value.kind === 'file'
              ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`
              : `COMPREPLY=($(compgen -W "${words(o.value)}" -- "$cur"))`;
          return `        ${o.flag}) ${reply}; return ;;`;
        });
      const positional = c.subcommands.length > 0 ? c.subcommands.map((s) => s.name).join(' ') : words(c.positional);
      return [
        `    ${quoteSingle(path.join(' '))})`,
        `      opts=${quoteSingle(c.options.map((o) => o.flag).join(' '))}`,
        `      words="${positional}"`,
        ...(valueCases.length ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
        `      ;;`,
      ].join('\n');
    })
    .join('\n');
  const parents = flatten(spec.commands).filter(({ command }) => command.subcommands.length > 0);
  const descend = parents.length
    ? `  case "$cmd" in\n    ${parents.map(({ path }) => quoteSingle(path.join(' '))).join('|')})\n` +
      `      if [ "$COMP_CWORD" -gt 2 ]; then cmd="$cmd \${COMP_WORDS[2]}"; fi ;;\n  esac\n`
    : '';
  return `# fe-webhooks bash completion. Load it with:
#   source <(fe-webhooks completion bash)
_fe_webhooks() {
  local cur prev cmd opts words events
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  events=${quoteSingle(spec.events.join(' '))}
  if [ "$COMP_CWORD" -le 1 ]; then
    COMPREPLY=($(compgen -W ${quoteSingle([...spec.commands.map((c) => c.name), 'help', '--help', '--version'].join(' '))} -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
${descend}  opts=''
  words=''
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
  elif [ "$words" = '@files' ]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [ -n "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=()
  fi
}
complete -F _fe_webhooks fe-webhooks
`;
}

/**
 * Text inside a single-quoted zsh word that _arguments or _describe reads: a backslash
 * before the characters they treat specially, and a quote closed and reopened around
 * `'` (a backslash does not escape anything inside single quotes: `\'` ended the word).
 */
const zshEscape = (text: string): string => text.replace(/[\\[\]:]/g, (m) => `\\${m}`).replace(/'/g, `'\\''`);

function zshAction(value: CompletionValue, what: string, events: readonly string[]): string {
  switch (value.kind) {
    case 'none':
      return '';
    case 'event':
      return `:event:(${events.join(' ')})`;
    case 'file':
      return ':file:_files';
    case 'choices':
      return `:${what}:(${value.choices.map(zshEscape).join(' ')})`;
    case 'other':
      return `:${what}: `;
  }
}

/** One level: the commands by name and description, then each one's arguments (one level deeper for subcommands). */
function zshLevel(commands: readonly CompletionCommand[], events: readonly string[], indent: string, depth: number): string {
  const list = `level${depth}`;
  const branches = commands.map((c) => {
    const inner = `${indent}    `;
    if (c.subcommands.length > 0) return `${indent}  (${c.name})\n${zshLevel(c.subcommands, events, inner, depth + 1)}\n${indent}    ;;`;
    const specs = c.options.map((o) => `'${o.flag}[${zshEscape(o.description)}]${zshAction(o.value, 'value', events)}'`);
    const positional = c.positional.kind === 'none' ? [] : [`'*${zshAction(c.positional, 'argument', events)}'`];
    return `${indent}  (${c.name})\n${inner}_arguments ${[...specs, ...positional].join(` \\\n${inner}  `)}\n${indent}    ;;`;
  });
  return [
    `${indent}local -a ${list}`,
    `${indent}${list}=(`,
    ...commands.map((c) => `${indent}  '${zshEscape(c.name)}:${zshEscape(c.description)}'`),
    `${indent})`,
    `${indent}if (( CURRENT == 2 )); then`,
    `${indent}  _describe 'command' ${list}`,
    `${indent}  return`,
    `${indent}fi`,
    `${indent}words=("\${(@)words[2,-1]}")`,
    `${indent}(( CURRENT-- ))`,
    `${indent}case "\${words[1]}" in`,
    ...branches,
    `${indent}esac`,
  ].join('\n');
}

export function zshScript(spec: CompletionSpec): string {
  return `#compdef fe-webhooks
# fe-webhooks zsh completion. Load it with:
#   source <(fe-webhooks completion zsh)     (after compinit)
_fe_webhooks() {
${zshLevel(spec.commands, spec.events, '  ', 1)}
}
compdef _fe_webhooks fe-webhooks
`;
}

export function fishScript(spec: CompletionSpec): string {
  const lines = [
    '# fe-webhooks fish completion. Load it with:',
    '#   fe-webhooks completion fish | source',
    'complete -c fe-webhooks -f',
    ...spec.commands.map((c) => `complete -c fe-webhooks -n __fish_use_subcommand -a ${quoteFish(c.name)} -d ${quoteFish(c.description)}`),
  ];
  const words = (value: CompletionValue): string | undefined =>
    value.kind === 'event' ? spec.events.join(' ') : value.kind === 'choices' ? value.choices.join(' ') : undefined;
  for (const { path, command: c } of flatten(spec.commands)) {
    // Under `captures export`: both names seen; under `captures` alone, its subcommands until one is given.
    const seen = path.map((name) => `__fish_seen_subcommand_from ${name}`).join('; and ');
    const when = quoteFish(seen);
    if (c.subcommands.length > 0) {
      const none = quoteFish(`${seen}; and not __fish_seen_subcommand_from ${c.subcommands.map((s) => s.name).join(' ')}`);
      for (const s of c.subcommands)
        lines.push(`complete -c fe-webhooks -n ${none} -a ${quoteFish(s.name)} -d ${quoteFish(s.description)}`);
      continue;
    }
    const positional = words(c.positional);
    if (positional !== undefined) lines.push(`complete -c fe-webhooks -n ${when} -a ${quoteFish(positional)}`);
    if (c.positional.kind === 'file') lines.push(`complete -c fe-webhooks -n ${when} -F`);
    for (const o of c.options) {
      const choices = words(o.value);
      const value =
        o.value.kind === 'none' ? '' : o.value.kind === 'file' ? ' -r -F' : choices !== undefined ? ` -x -a ${quoteFish(choices)}` : ' -x';
      lines.push(`complete -c fe-webhooks -n ${when} -l ${o.flag.replace(/^--/, '')} -d ${quoteFish(o.description)}${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A fish single-quoted word: only `\` and `'` are special inside. */
function quoteFish(text: string): string {
  return `'${text.replace(/[\\']/g, (m) => `\\${m}`)}'`;
}
