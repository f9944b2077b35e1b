/**
 * Shell completion scripts, generated from the commander program so they never drift
 * from the real flags. Commands, flags and event names complete; flags that take a
 * file complete file names.
 */

export interface CompletionOption {
  flag: string;
  description: string;
  /** What its value is: nothing (a switch), an event name, a file path, or anything else. */
  value: 'none' | 'event' | 'file' | 'other';
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  /** Its positional arguments are event names (`generate`, `send`). */
  eventArgs: boolean;
  /** Its positional argument is one of these words (`completion bash|zsh|fish`). */
  choices?: string[];
}

export interface CompletionSpec {
  commands: CompletionCommand[];
  events: readonly string[];
}

const quoteSingle = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function bashScript(spec: CompletionSpec): string {
  const cases = spec.commands
    .map((c) => {
      const flagsTaking = (kind: CompletionOption['value']): string[] => c.options.filter((o) => o.value === kind).map((o) => o.flag);
      const [eventFlags, fileFlags, otherFlags] = [flagsTaking('event'), flagsTaking('file'), flagsTaking('other')];
      const words = c.choices ? c.choices.join(' ') : c.eventArgs ? '$events' : '';
      return [
        `    ${c.name})`,
        `      opts=${quoteSingle(c.options.map((o) => o.flag).join(' '))}`,
        `      words="${words}"`,
        `      case "$prev" in`,
        ...(eventFlags.length ? [`        ${eventFlags.join('|')}) COMPREPLY=($(compgen -W "$events" -- "$cur")); return ;;`] : []),
        ...(fileFlags.length ? [`        ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`] : []),
        ...(otherFlags.length ? [`        ${otherFlags.join('|')}) COMPREPLY=(); return ;;`] : []),
        `      esac`,
        `      ;;`,
      ].join('\n');
    })
    .join('\n');
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
  opts=''
  words=''
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
  elif [ -n "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _fe_webhooks fe-webhooks
`;
}

const zshEscape = (text: string): string => text.replace(/[\\'[\]:]/g, (m) => `\\${m}`);

export function zshScript(spec: CompletionSpec): string {
  const functions = spec.commands
    .map((c) => {
      const specs = c.options.map((o) => {
        const action = { none: '', event: ':event:($events)', file: ':file:_files', other: ':value:' }[o.value];
        return `    '${o.flag}[${zshEscape(o.description)}]${action}'`;
      });
      const positional = c.choices ? `'*:${c.name}:(${c.choices.join(' ')})'` : c.eventArgs ? `'*:event:($events)'` : `'*:file:_files'`;
      return `  (${c.name})\n    _arguments ${[...specs, `    ${positional}`].join(' \\\n')}\n    ;;`;
    })
    .join('\n');
  return `#compdef fe-webhooks
# fe-webhooks zsh completion. Load it with:
#   source <(fe-webhooks completion zsh)     (after compinit)
_fe_webhooks() {
  local -a commands
  local events="${spec.events.join(' ')}"
  commands=(
${spec.commands.map((c) => `    '${c.name}:${zshEscape(c.description)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  words=("\${(@)words[2,-1]}")
  (( CURRENT-- ))
  case "\${words[1]}" in
${functions}
  esac
}
compdef _fe_webhooks fe-webhooks
`;
}

export function fishScript(spec: CompletionSpec): string {
  const lines = [
    '# fe-webhooks fish completion. Load it with:',
    '#   fe-webhooks completion fish | source',
    'complete -c fe-webhooks -f',
    ...spec.commands.map((c) => `complete -c fe-webhooks -n __fish_use_subcommand -a ${c.name} -d ${quoteSingle(c.description)}`),
  ];
  for (const c of spec.commands) {
    const when = `"__fish_seen_subcommand_from ${c.name}"`;
    if (c.eventArgs) lines.push(`complete -c fe-webhooks -n ${when} -a ${quoteSingle(spec.events.join(' '))}`);
    if (c.choices) lines.push(`complete -c fe-webhooks -n ${when} -a ${quoteSingle(c.choices.join(' '))}`);
    for (const o of c.options) {
      const value = { none: '', event: ` -x -a ${quoteSingle(spec.events.join(' '))}`, file: ' -r -F', other: ' -x' }[o.value];
      lines.push(`complete -c fe-webhooks -n ${when} -l ${o.flag.replace(/^--/, '')} -d ${quoteSingle(o.description)}${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
