#!/usr/bin/perl
# tests/e2e/chainlint.pl - refuse an e2e test body whose && chain is broken (docs/testing.md).
#
#   chainlint.pl [--fix] FILE     (the body of one test_expect; '-' reads stdin)
#   chainlint.pl [--fix] --scripts SCRIPT...   (test scripts and the helpers they source)
#
# Prints one line per problem, "LINE<TAB>MESSAGE" (LINE counts from 1 at the body's first line),
# and exits 1 when there is a problem, 0 when the body is clean. --fix prints the body with the
# && added where a command simply lacks one (the other problems need a person). --scripts checks
# what runs inside a test: each function a script defines (a helper; as a nested list, below)
# and each test_expect body written as one '...' word, and prints FILE:LINE; with --fix it
# rewrites the scripts.
#
# A test body runs without `set -e` doing anything useful: bash ignores it inside an && list
# except for the list's last command, so a check that is not chained is not a check. The rules:
#  - The top level of a body is one && chain: commands are joined by `&&` (or `||`, `|`, which
#    make one longer command). A `;`, a newline or a `&` between two commands is a break.
#  - Inside a group `{ }`, a subshell `( )`, an if/elif/else branch, a case arm, a loop body, a
#    function body or `$( )` the same holds, with the exceptions a reader can see are deliberate:
#    the previous command ends in `return`/`exit`/`break`/`continue` (e.g. `cmd || return 1`)
#    or in `&`, or is a guard (an `if` whose branches all end so); the next command is `false`, `return` or `exit` (`{ cat log; false; }`: then
#    the whole list is a failure path), or reads `$?`.
#  - A loop body must turn a failure into one of the loop with `return` or `exit`
#    (`for f in a b; do check "$f" || return 1; done`): a loop's status is only its last
#    iteration's.
# The idea and the rules follow git's t/chainlint.pl (Eric Sunshine); this is a smaller parser
# of the shell our bodies use (POSIX sh plus bash's [[ ]], (( )), $'' and arrays).
use strict;
use warnings;

our %p;

# problem LINE MESSAGE [FIX]: FIX is [offset, length, text], the edit of --fix. With
# --functions only what is inside a function counts.
sub problem {
	push(@{$p{problems}}, [@_]) if !$p{script} || $p{in_func};
}

sub parse_error {
	my ($line, $msg) = @_;
	die [$line, "cannot parse the body: $msg"];
}

# ---------------------------------------------------------------------------------------------
# Lexer. A token is [kind, text, line]: kind 'w' (a word, quotes and expansions included), 'op'
# (an operator), 'nl' (a newline; a comment ends in one) or 'eof'. `$( )` is parsed (and checked)
# in place through the parser, so the lexer and the parser share %p.

sub heredoc_bodies {
	while (my $h = shift(@{$p{heredocs}})) {
		my ($tag, $strip, $line) = @$h;
		while (1) {
			parse_error($line, "here-document '$tag' has no end") if $p{pos} >= length($p{s});
			my $nl = index($p{s}, "\n", $p{pos});
			my $end = $nl < 0 ? length($p{s}) : $nl;
			my $l = substr($p{s}, $p{pos}, $end - $p{pos});
			$p{pos} = $nl < 0 ? $end : $nl + 1;
			$p{line}++;
			$l =~ s/^\t+// if $strip;
			last if $l eq $tag;
		}
	}
}

sub count_lines { $p{line} += () = $_[0] =~ /\n/g }

# the rest of a '...' string (the opening quote is consumed)
sub scan_squote {
	my $start = $p{line};
	pos($p{s}) = $p{pos};
	$p{s} =~ /\G([^']*)'/gc or parse_error($start, "unterminated '");
	count_lines($1);
	$p{pos} = pos($p{s});
	return "'$1'";
}

# the rest of $'...' (backslash escapes)
sub scan_ansi {
	my $start = $p{line};
	pos($p{s}) = $p{pos};
	$p{s} =~ /\G((?:[^'\\]|\\.)*)'/sgc or parse_error($start, "unterminated \$'");
	count_lines($1);
	$p{pos} = pos($p{s});
	return "\$'$1'";
}

# the rest of a `...` command substitution (not parsed: old style, rare in our tests)
sub scan_backquote {
	my $start = $p{line};
	pos($p{s}) = $p{pos};
	$p{s} =~ /\G((?:[^`\\]|\\.)*)`/sgc or parse_error($start, 'unterminated `');
	count_lines($1);
	$p{pos} = pos($p{s});
	return "`$1`";
}

# text up to the bracket that closes an opened one (for ${...} and $((...)), quotes respected)
sub scan_balanced {
	my ($open, $close, $depth) = @_;
	my $start = $p{line};
	my $out = '';
	while ($depth > 0) {
		parse_error($start, "unterminated $open") if $p{pos} >= length($p{s});
		my $c = substr($p{s}, $p{pos}++, 1);
		if ($c eq '\\') {
			$out .= $c . substr($p{s}, $p{pos}++, 1);
			next;
		}
		if ($c eq "'") { $out .= scan_squote(); next }
		if ($c eq '"') { $out .= scan_dquote(); next }
		if ($c eq '$') { $out .= scan_dollar(); next }
		$p{line}++ if $c eq "\n";
		$depth++ if $c eq $open;
		$depth-- if $c eq $close;
		$out .= $c;
	}
	return $out;
}

# after a '$': ${...}, $((...)), $(...), $'...', $name, $?
sub scan_dollar {
	my $s = \$p{s};
	my $c = substr($$s, $p{pos}, 1);
	if (substr($$s, $p{pos}, 2) eq '((') {
		$p{pos} += 2;
		return '$((' . scan_balanced('(', ')', 2);
	}
	if ($c eq '(') {
		$p{pos}++;
		local $p{buf} = [];
		parse_list('\)', 'nested');
		my $t = next_token();
		parse_error($t->[2], "expected ')' closing \$(, found '$t->[1]'")
			unless $t->[0] eq 'op' && $t->[1] eq ')';
		return '$(...)';
	}
	if ($c eq '{') {
		$p{pos}++;
		return '${' . scan_balanced('{', '}', 1);
	}
	if ($c eq "'") {
		$p{pos}++;
		return scan_ansi();
	}
	pos($$s) = $p{pos};
	if ($$s =~ /\G(\w+|[?#\$!*\@0-9-])/gc) {
		$p{pos} = pos($$s);
		return "\$$1";
	}
	return '$';
}

# the rest of a "..." string
sub scan_dquote {
	my $start = $p{line};
	my $out = '"';
	while (1) {
		parse_error($start, 'unterminated "') if $p{pos} >= length($p{s});
		my $c = substr($p{s}, $p{pos}++, 1);
		if ($c eq '"') { return $out . '"' }
		if ($c eq '\\') {
			my $n = substr($p{s}, $p{pos}++, 1);
			$p{line}++ if $n eq "\n";
			$out .= "\\$n";
			next;
		}
		if ($c eq '$') { $out .= scan_dollar(); next }
		if ($c eq '`') { $out .= scan_backquote(); next }
		$p{line}++ if $c eq "\n";
		$out .= $c;
	}
}

# [kind, text, line, here-document?, end offset]
sub scan_token {
	my $t = scan_token_inner();
	$t->[4] //= $p{pos};
	return $t;
}

sub scan_token_inner {
	my $s = \$p{s};
	while (1) {
		pos($$s) = $p{pos};
		$$s =~ /\G[ \t]*/gc;
		$p{pos} = pos($$s);
		if ($$s =~ /\G\\\n/gc) { # line continuation
			$p{pos} = pos($$s);
			$p{line}++;
			next;
		}
		last;
	}
	my $line = $p{line};
	return ['eof', '', $line] if $p{pos} >= length($$s);
	pos($$s) = $p{pos};
	if ($$s =~ /\G#[^\n]*/gc) { # a comment; its newline comes next
		$p{pos} = pos($$s);
		return scan_token();
	}
	if ($$s =~ /\G\n/gc) {
		$p{pos} = pos($$s);
		$p{line}++;
		heredoc_bodies();
		return ['nl', "\n", $line];
	}
	# (( arithmetic )) as a command
	if ($$s =~ /\G\(\(/gc) {
		$p{pos} = pos($$s);
		return ['w', '((' . scan_balanced('(', ')', 2), $line];
	}
	# <(...) and >(...): a command list, checked like $(...)
	if ($$s =~ /\G([<>])\(/gc) {
		my $d = $1;
		$p{pos} = pos($$s);
		local $p{buf} = [];
		parse_list('\)', 'nested');
		my $t = next_token();
		parse_error($t->[2], "expected ')' closing $d(") unless $t->[0] eq 'op' && $t->[1] eq ')';
		return ['w', "$d(...)", $line];
	}
	if ($$s =~ /\G([0-9]*<<<)/gc) {
		$p{pos} = pos($$s);
		return ['redir', $1, $line];
	}
	if ($$s =~ /\G[0-9]*(<<-?)/gc) {
		my $op = $1;
		$p{pos} = pos($$s);
		my $tag = scan_token();
		parse_error($line, "$op without a delimiter") unless $tag->[0] eq 'w';
		(my $t = $tag->[1]) =~ s/['"\\]//g;
		push(@{$p{heredocs}}, [$t, $op eq '<<-', $line]);
		return ['redir', "$op$tag->[1]", $line, 'done'];
	}
	if ($$s =~ /\G(&>>|&>|[0-9]*(?:>>|>&|<&|>\||<>|[<>]))/gc) {
		$p{pos} = pos($$s);
		return ['redir', $1, $line];
	}
	if ($$s =~ /\G(&&|\|\||;;&|;;|;&|\|&|[;&|()])/gc) {
		$p{pos} = pos($$s);
		return ['op', $1, $line];
	}
	# a word
	my $w = '';
	while ($p{pos} < length($$s)) {
		my $c = substr($$s, $p{pos}, 1);
		last if $c =~ /[ \t\n;&|()<>]/;
		$p{pos}++;
		if ($c eq '\\') {
			my $n = substr($$s, $p{pos}++, 1);
			if ($n eq "\n") { $p{line}++; next }
			$w .= "\\$n";
		} elsif ($c eq "'") {
			$w .= scan_squote();
		} elsif ($c eq '"') {
			$w .= scan_dquote();
		} elsif ($c eq '`') {
			$w .= scan_backquote();
		} elsif ($c eq '$') {
			$w .= scan_dollar();
		} elsif ($c eq '=' && substr($$s, $p{pos}, 1) eq '(') { # name=(array)
			$p{pos}++;
			$w .= '=(' . scan_balanced('(', ')', 1);
		} else {
			$w .= $c;
		}
	}
	return ['w', $w, $line];
}

# (last_end: where the last token taken that is not a newline ends)
sub next_token {
	my $t = @{$p{buf}} ? pop(@{$p{buf}}) : scan_token();
	$p{last_end} = $t->[4] unless $t->[0] eq 'nl' || $t->[0] eq 'eof';
	return $t;
}

sub peek {
	my $end = $p{last_end};
	my $t = next_token();
	push(@{$p{buf}}, $t);
	$p{last_end} = $end;
	return $t;
}

sub skip_newlines {
	next_token() while peek()->[0] eq 'nl';
}

sub expect_word {
	my ($want) = @_;
	my $t = next_token();
	parse_error($t->[2], "expected '$want', found '" . ($t->[0] eq 'nl' ? 'newline' : $t->[1]) . "'")
		unless $t->[0] eq 'w' && $t->[1] eq $want;
	return $t;
}

# ---------------------------------------------------------------------------------------------
# Parser. parse_list parses commands up to a stop word (or ')' / ';;' / end) and checks how they
# are joined. parse_command returns {first => its first word, last_line => the line of its last
# token, exits => true when it ends the function/shell (return, exit, break, continue)}.

my %reserved_stop = map { $_ => 1 } qw(then elif else fi do done esac });

sub at_stop {
	my ($t, $stop) = @_;
	return 1 if $t->[0] eq 'eof';
	return 0 unless defined $stop;
	return $t->[1] =~ /^(?:$stop)$/ if $t->[0] eq 'w';
	return $t->[1] =~ /^(?:$stop)$/ if $t->[0] eq 'op' && $t->[1] =~ /^(?:\)|;;&?|;&)$/;
	return 0;
}

# $stop: a regex of the words (or ')' / ';;') that end this list; $nested: not a body's top level
sub parse_list {
	my ($stop, $nested) = @_;
	my ($prev, $sep);   # the previous command, and what followed it
	my ($sep_at, $sep_line); # where that separator is (a ';': its offset)
	my @mine;           # the problems found in this list (dropped by a later false/return/exit)
	while (1) {
		my $t = peek();
		if ($t->[0] eq 'nl' || ($t->[0] eq 'op' && $t->[1] eq ';')) {
			next_token();
			if ($prev && !defined $sep) {
				$sep = $t->[1];
				$sep_at = $t->[4] - 1 if $sep eq ';';
			}
			next;
		}
		last if at_stop($t, $stop);
		parse_error($t->[2], "unexpected '$t->[1]'") if ($t->[0] eq 'op' && $t->[1] ne '(') || ($t->[0] eq 'w' && $reserved_stop{$t->[1]});
		my $cmd = parse_command();
		$cmd->{end} = $p{last_end};
		# `|| :` / `|| true`: the failure is ignored, in so many words
		$cmd->{ignores} = $prev && defined $sep && $sep eq '||' && $cmd->{first} =~ /^(?::|true)$/
			&& $cmd->{nwords} == 1;
		if ($prev) {
			if (!defined $sep) {
				parse_error($cmd->{line}, "'$cmd->{first}' follows a command without a separator");
			} elsif ($sep eq '||' && !$nested) {
				# (exit 117) && a || b: b runs and an earlier failure would be caught by it
				push(@mine, [$sep_line, "'||' in the top-level chain: make it a group, " .
					"{ a || b; }, so that it catches only a's failure"]);
			} elsif ($sep =~ /^(?:&&|\|\||\||\|&)$/) {
				# chained
			} elsif (!$nested) {
				if ($sep eq '&') {
					push(@mine, [$prev->{last_line}, "broken && chain ('&' ends the command)"]);
				} else {
					push(@mine, [$prev->{last_line}, 'broken && chain (no && after the command)',
						fix($prev, $sep_at)]);
				}
			} elsif ($sep eq '&' || $prev->{exits} || ($prev->{guard} && $prev->{alone}) ||
				 $cmd->{uses_status}) {
				# deliberate: background, an explicit return/exit, a guard, a look at $?
			} elsif ($cmd->{first} =~ /^(?:false|return|exit)$/) {
				@mine = (); # a failure path: `{ cat log; false; }`
			} else {
				push(@mine, [$prev->{last_line}, 'broken && chain (no && after the command)',
					fix($prev, $sep_at)]);
			}
		}
		# alone: not the right-hand side of && or || (there a guard could swallow a failure)
		$cmd->{alone} = !$prev || $sep !~ /^(?:&&|\|\|)$/;
		$prev = $cmd;
		$sep = $sep_at = undef;
		$t = peek();
		if ($t->[0] eq 'op' && $t->[1] =~ /^(?:&&|\|\||\||\|&|&)$/) {
			next_token();
			$sep = $t->[1];
			$sep_line = $t->[2];
			# `a &&` then newlines then `b`: still one chain
			skip_newlines() if $sep ne '&';
		} elsif ($t->[0] eq 'op' && $t->[1] eq ';') {
			next_token();
			$sep = ';';
			$sep_at = $t->[4] - 1;
		}
	}
	push(@mine, [$prev->{last_line}, "broken && chain ('&' ends the command)"])
		if !$nested && $prev && defined $sep && $sep eq '&';
	problem(@$_) for @mine;
	# does the list end the function or shell (its last command is return/exit...)?
	$p{list_end} = $prev ? $prev->{end} : undef;
	$p{list_ignores} = $prev && $prev->{ignores};
	return $prev && $prev->{exits} && !(defined $sep && $sep eq '&');
}

# the --fix edit for a missing && after command C: the ';' at offset AT becomes ' &&', or
# ' &&' goes after C's last token
sub fix {
	my ($c, $at) = @_;
	return defined $at ? [$at, 1, ' &&'] : [$c->{end}, 0, ' &&'];
}

# words and redirections after a compound command: `} >file`, `done <input`
sub redirections {
	my ($c) = @_;
	while (peek()->[0] eq 'redir') {
		my $r = next_token();
		$c->{last_line} = $r->[2];
		next if $r->[3];    # a here-document: the tag was read with it
		my $w = next_token();
		parse_error($r->[2], "'$r->[1]' without a target") unless $w->[0] eq 'w';
		$c->{last_line} = $w->[2];
	}
	return $c;
}

sub loop_body {
	my ($line) = @_;
	my $before = $p{exits};
	skip_newlines();
	parse_list('done', 'nested');
	my ($end, $ignores) = @p{qw(list_end list_ignores)};
	my $done = expect_word('done');
	problem($line, "loop without '|| return 1': a failure inside it does not fail the test",
		defined $end ? [$end, 0, ' || return 1'] : ())
		if $p{exits} == $before && !$ignores;
	return $done;
}

sub parse_command {
	my $t = next_token();
	my $c = {first => $t->[1], line => $t->[2], last_line => $t->[2], exits => 0, uses_status => 0};
	if ($t->[0] eq 'op' && $t->[1] eq '(') {
		parse_list('\)', 'nested');
		my $e = next_token();
		parse_error($e->[2], "expected ')'") unless $e->[0] eq 'op' && $e->[1] eq ')';
		$c->{last_line} = $e->[2];
		return redirections($c);
	}
	my $w = $t->[1];
	if ($w eq '!') {
		my $n = parse_command();
		$n->{first} = '!';
		$n->{exits} = 0;
		return $n;
	} elsif ($w eq '{') {
		$c->{exits} = parse_list('}', 'nested');
		$c->{last_line} = expect_word('}')->[2];
		return redirections($c);
	} elsif ($w eq 'if') {
		# a guard: every branch ends in return/exit, so the if cannot fail unseen
		my $guard = 1;
		while (1) {
			parse_list('then', 'nested');
			expect_word('then');
			my $ends = parse_list('elif|else|fi', 'nested');
			$guard &&= $ends;
			my $n = next_token();
			if ($n->[1] eq 'fi') { $c->{last_line} = $n->[2]; last }
			if ($n->[1] eq 'else') {
				my $ends_else = parse_list('fi', 'nested');
				$guard &&= $ends_else;
				$c->{last_line} = expect_word('fi')->[2];
				last;
			}
			parse_error($n->[2], "expected 'fi'") unless $n->[1] eq 'elif';
		}
		$c->{guard} = $guard;
		return redirections($c);
	} elsif ($w eq 'while' || $w eq 'until') {
		parse_list('do', 'nested');
		expect_word('do');
		$c->{last_line} = loop_body($t->[2])->[2];
		return redirections($c);
	} elsif ($w eq 'for' || $w eq 'select') {
		my $n = next_token();
		if ($n->[1] !~ /^\(\(/) { # not for ((;;))
			skip_newlines();
			if (peek()->[1] eq 'in') {
				next_token();
				while (1) {
					$n = next_token();
					last if $n->[0] eq 'nl' || ($n->[0] eq 'op' && $n->[1] eq ';');
					parse_error($n->[2], "unexpected '$n->[1]' in the word list of for")
						unless $n->[0] eq 'w';
				}
			}
		}
		skip_newlines();
		my $semi = peek();
		next_token() if $semi->[0] eq 'op' && $semi->[1] eq ';';
		skip_newlines();
		expect_word('do');
		$c->{last_line} = loop_body($t->[2])->[2];
		return redirections($c);
	} elsif ($w eq 'case') {
		next_token(); # the subject
		skip_newlines();
		expect_word('in');
		while (1) {
			skip_newlines();
			my $n = peek();
			last if $n->[0] eq 'w' && $n->[1] eq 'esac';
			# the pattern(s), up to ')'
			next_token() if $n->[0] eq 'op' && $n->[1] eq '(';
			while (1) {
				$n = next_token();
				parse_error($n->[2], 'unterminated case pattern') if $n->[0] eq 'eof';
				last if $n->[0] eq 'op' && $n->[1] eq ')';
			}
			parse_list('esac|;;&?|;&', 'nested');
			$n = peek();
			next_token() if $n->[0] eq 'op';
		}
		$c->{last_line} = expect_word('esac')->[2];
		return redirections($c);
	} elsif ($w eq '[[') {
		while (1) {
			my $n = next_token();
			parse_error($t->[2], 'unterminated [[') if $n->[0] eq 'eof';
			$c->{last_line} = $n->[2];
			last if $n->[0] eq 'w' && $n->[1] eq ']]';
		}
	} elsif ($w eq 'function' || (peek()->[0] eq 'op' && peek()->[1] eq '(')) {
		# name() BODY or function name [()] BODY
		next_token() if $w eq 'function';
		if (peek()->[0] eq 'op' && peek()->[1] eq '(') {
			next_token();
			my $e = next_token();
			parse_error($e->[2], "expected ')' after '$w('") unless $e->[0] eq 'op' && $e->[1] eq ')';
		}
		skip_newlines();
		local $p{in_func} = 1;
		my $body = parse_command();
		$c->{last_line} = $body->{last_line};
		return $c;
	}
	# a simple command (or the rest of [[ ]]): words and redirections up to an operator
	$p{exits}++ if $w =~ /^(?:return|exit)$/;
	$c->{uses_status} = 1 if $w =~ /\$\?|\$\{\?\}/;
	$p{exits}++ if $c->{uses_status};
	my $nwords = 1;
	my @words;
	while (1) {
		my $n = peek();
		last if $n->[0] eq 'nl' || $n->[0] eq 'eof' || $n->[0] eq 'op';
		next_token();
		$c->{last_line} = $n->[2];
		if ($n->[0] eq 'redir') {
			next if $n->[3];
			my $target = next_token();
			parse_error($n->[2], "'$n->[1]' without a target") unless $target->[0] eq 'w';
			$c->{last_line} = $target->[2];
			next;
		}
		if ($n->[1] =~ /\$\?|\$\{\?\}/) {
			$c->{uses_status} = 1;
			$p{exits}++;
		}
		$nwords++;
		push(@words, $n);
	}
	$c->{exits} = 1 if $w =~ /^(?:return|exit|break|continue)$/ && $nwords <= 2;
	$c->{nwords} = $nwords;
	script_body($words[-1]) if $p{script} && $w =~ /^test_expect(?:_gap)?$/ && @words;
	return $c;
}

# --scripts: the body of a test_expect written as one '...' word is checked in place
sub script_body {
	my ($t) = @_;
	return unless $t->[1] =~ /^'([^']*)'$/;
	my $body = $1;
	my $start = $t->[4] - 1 - length($body);
	for my $pr (lint($body, 0)) {
		my @fix = $pr->[2] ? ([$pr->[2][0] + $start, $pr->[2][1], $pr->[2][2]]) : ();
		push(@{$p{problems}}, [$pr->[0] + $t->[2] - 1, "test_expect body: $pr->[1]", @fix]);
	}
}

# lint TEXT SCRIPT: the problems of TEXT, a body (or, SCRIPT true, a script of which only the
# function bodies count), as [line, message, fix]
sub lint {
	my ($text, $script) = @_;
	local %p = (s => $text, pos => 0, line => 1, heredocs => [], buf => [], problems => [],
		exits => 0, script => $script, in_func => 0);
	my $ok = eval {
		parse_list(undef, $script);
		my $t = next_token();
		parse_error($t->[2], "unexpected '$t->[1]'") unless $t->[0] eq 'eof';
		1;
	};
	if (!$ok) {
		my $e = $@;
		die $e unless ref($e) eq 'ARRAY';
		push(@{$p{problems}}, $e);
	}
	return sort { $a->[0] <=> $b->[0] } @{$p{problems}};
}

sub slurp {
	my ($f) = @_;
	local $/;
	my $fh;
	if ($f eq '-') { $fh = \*STDIN } else { open($fh, '<', $f) or die "chainlint: $f: $!\n" }
	return scalar(<$fh>) // '';
}

sub report {
	my ($prefix, $text, @problems) = @_;
	my @lines = split(/\n/, $text, -1);
	my %seen;
	for my $pr (@problems) {
		my ($line, $msg) = @$pr;
		next if $seen{"$line $msg"}++;
		(my $l = $lines[$line - 1] // '') =~ s/^\s+//;
		print "$prefix$line\t$msg: $l\n";
	}
}

# TEXT with the fixes of PROBLEMS applied
sub fixed {
	my ($text, @problems) = @_;
	my %done;
	for my $f (sort { $b->[0] <=> $a->[0] } map { $_->[2] // () } @problems) {
		next if $done{$f->[0]}++;
		substr($text, $f->[0], $f->[1]) = $f->[2];
	}
	return $text;
}

my ($fix, $scripts);
while (@ARGV && $ARGV[0] =~ /^--/) {
	my $o = shift(@ARGV);
	if ($o eq '--fix') { $fix = 1 }
	elsif ($o eq '--scripts') { $scripts = 1 }
	else { die "chainlint: unknown option $o\n" }
}
if ($scripts) {
	my $bad = 0;
	for my $f (@ARGV) {
		my $text = slurp($f);
		my @pr = lint($text, 1);
		if ($fix && grep { $_->[2] } @pr) {
			open(my $fh, '>', "$f.tmp") or die "chainlint: $f.tmp: $!\n";
			print $fh fixed($text, @pr);
			close($fh) or die "chainlint: $f.tmp: $!\n";
			chmod((stat($f))[2] & 07777, "$f.tmp");
			rename("$f.tmp", $f) or die "chainlint: $f: $!\n";
		}
		report("$f:", $text, @pr);
		$bad ||= @pr;
	}
	exit($bad ? 1 : 0);
}
my $src = slurp($ARGV[0] // '-');
my @problems = lint($src, 0);
if ($fix) {
	print fixed($src, @problems);
	exit(0);
}
report('', $src, @problems);
exit(@problems ? 1 : 0);
