# zsh -f zsh-complete.zsh SCRIPT LINE HITS
# Runs an interactive zsh (no user config) in a pseudo-terminal (zpty), loads compinit
# and SCRIPT, types LINE and Tab. compadd is wrapped to append each match to HITS as
# "<hit>match"; a post-completion hook appends "<done>". Errors from sourcing go to HITS.err.
zmodload zsh/zpty || exit 3
script=$1 line=$2 hits=$3
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''"
zpty -w z "autoload -Uz compinit && compinit -u -D"
zpty -w z "source ${(q)script} 2>>${(q)hits}.err"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do print -r -- "<hit>$h" >> '${(q)hits}'; done; }'
zpty -w z 'comppostfuncs=(__done); __done () { print -r -- "<done>" >> '${(q)hits}'; compstate[list]=""; compstate[insert]=""; }'
zpty -w -n z "$line"$'\t'
integer i
for (( i = 0; i < 400; i++ )); do
  [[ -f $hits ]] && grep -q '<done>' $hits && break
  sleep 0.05
done
zpty -d z
[[ -f $hits ]] && grep -q '<done>' $hits || exit 4
