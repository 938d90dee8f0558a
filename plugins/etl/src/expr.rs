//! The expression language of `filter:`, `derive:` and aggregates: a small
//! SQL-like language with a hand-written parser that says where it got
//! lost.
//!
//! ```text
//! expr    = or
//! or      = and ("or" and)*
//! and     = not ("and" not)*
//! not     = "not" not | compare
//! compare = concat (("==" | "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") concat)?
//!         | concat "is" ["not"] "null"
//!         | concat ["not"] "in" "(" expr ("," expr)* ")"
//! concat  = sum ("||" sum)*
//! sum     = product (("+" | "-") product)*
//! product = unary (("*" | "/" | "%") unary)*
//! unary   = "-" unary | atom
//! atom    = number | string | "true" | "false" | "null"
//!         | column | name "(" [expr ("," expr)*] ")" | "(" expr ")"
//! ```
//!
//! Keywords are case-insensitive. Strings take double or single quotes with
//! `\` escapes. A column is a bare name (`amount`, `customer_id`) or any
//! text in backticks (`` `order id` ``).
//!
//! Nulls follow SQL: comparisons and arithmetic with null are null, `and`
//! and `or` use three-valued logic, and a filter keeps a row only when its
//! expression is true. `/` always divides as decimals. `||` joins text and
//! is null if either side is; `concat(…)` skips nulls. A value of the wrong
//! kind (text where a number is needed) makes the result null, and the
//! plugin logs how often that happened.

use std::cmp::Ordering;
use std::fmt;

use crate::value::{Num, Value, compare};

/// A parse or compile error, with the byte offset it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub offset: usize,
}

impl ExprError {
    fn at(offset: usize, message: impl Into<String>) -> ExprError {
        ExprError {
            message: message.into(),
            offset,
        }
    }

    /// The 1-based column (in characters) the error points at.
    pub fn column(&self, source: &str) -> usize {
        source
            .get(..self.offset.min(source.len()))
            .map_or(0, |s| s.chars().count())
            + 1
    }

    /// The message, then the expression with a caret under the offending
    /// spot.
    pub fn render(&self, source: &str) -> String {
        format!(
            "{}\n    {source}\n    {}^",
            self.message,
            " ".repeat(self.column(source) - 1)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Num),
    Str(String),
    Ident(String),
    Quoted(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Star,
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(Num::Int(i)) => write!(f, "`{i}`"),
            Tok::Num(Num::Float(x)) => write!(f, "`{x}`"),
            Tok::Str(s) => write!(f, "the string {s:?}"),
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Quoted(s) => write!(f, "`` `{s}` ``"),
            Tok::Op(op) => write!(f, "`{op}`"),
            Tok::LParen => f.write_str("`(`"),
            Tok::RParen => f.write_str("`)`"),
            Tok::Comma => f.write_str("`,`"),
            Tok::Star => f.write_str("`*`"),
            Tok::End => f.write_str("the end"),
        }
    }
}

/// Operators, longest first so that `<=` wins over `<`.
const OPERATORS: [&str; 13] = [
    "==", "!=", "<>", "<=", ">=", "||", "=", "<", ">", "+", "-", "/", "%",
];

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let mut toks = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'*' => {
                i += 1;
                Tok::Star
            }
            b'"' | b'\'' => {
                let (text, end) = lex_string(src, i)?;
                i = end;
                Tok::Str(text)
            }
            b'`' => {
                let Some(len) = src[i + 1..].find('`') else {
                    return Err(ExprError::at(
                        i,
                        "this backtick-quoted column name is not closed",
                    ));
                };
                let name = &src[i + 1..i + 1 + len];
                if name.is_empty() {
                    return Err(ExprError::at(i, "an empty column name"));
                }
                i += len + 2;
                Tok::Quoted(name.to_string())
            }
            b'0'..=b'9' | b'.' => {
                let (num, end) = lex_number(src, i)?;
                i = end;
                Tok::Num(num)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(src[start..i].to_string())
            }
            _ => match OPERATORS.iter().find(|op| src[i..].starts_with(**op)) {
                Some(op) => {
                    i += op.len();
                    Tok::Op(op)
                }
                None => {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    let hint = match ch {
                        '&' => " (write `and`)",
                        '|' => " (write `or`, or `||` to join text)",
                        '!' => " (write `not`, or `!=`)",
                        _ => "",
                    };
                    return Err(ExprError::at(i, format!("unexpected `{ch}`{hint}")));
                }
            },
        };
        toks.push((tok, start));
    }
    toks.push((Tok::End, src.len()));
    Ok(toks)
}

fn lex_string(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        match ch {
            c if c == quote => return Ok((out, start + 1 + off + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, c @ ('\\' | '"' | '\''))) => out.push(c),
                Some((at, c)) => {
                    return Err(ExprError::at(
                        start + 1 + at - 1,
                        format!("unknown escape `\\{c}` (use \\\\, \\\", \\', \\n or \\t)"),
                    ));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(ExprError::at(start, "this string is not closed"))
}

fn lex_number(src: &str, start: usize) -> Result<(Num, usize), ExprError> {
    let bytes = src.as_bytes();
    let mut i = start;
    let mut float = false;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' | b'_' => i += 1,
            b'.' => {
                float = true;
                i += 1;
            }
            b'e' | b'E' => {
                float = true;
                i += 1;
                if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
        return Err(ExprError::at(
            start,
            "a name cannot start with a digit (quote it in backticks)",
        ));
    }
    let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
    let num = if float {
        text.parse::<f64>().ok().map(Num::Float)
    } else {
        text.parse::<i64>().ok().map(Num::Int)
    };
    num.map(|n| (n, i))
        .ok_or_else(|| ExprError::at(start, format!("`{}` is not a number", &src[start..i])))
}

/// A parsed expression, with columns still by name.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Lit(Value),
    Column {
        name: String,
        offset: usize,
    },
    Unary(UnOp, Box<Ast>),
    Binary(BinOp, Box<Ast>, Box<Ast>),
    IsNull {
        expr: Box<Ast>,
        negated: bool,
    },
    In {
        expr: Box<Ast>,
        list: Vec<Ast>,
        negated: bool,
    },
    Call {
        name: String,
        args: Vec<Ast>,
        star: bool,
        offset: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Parses an expression.
pub fn parse(src: &str) -> Result<Ast, ExprError> {
    if src.trim().is_empty() {
        return Err(ExprError::at(0, "the expression is empty"));
    }
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
    };
    let ast = p.expr()?;
    match p.peek() {
        Tok::End => Ok(ast),
        Tok::RParen => Err(p.error("this `)` has no matching `(`")),
        tok => {
            let tok = tok.to_string();
            Err(p.error(format!(
                "expected an operator (`and`, `or`, `==`, `+`…) before {tok}"
            )))
        }
    }
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(0, |(_, o)| *o)
    }

    fn error(&self, message: impl Into<String>) -> ExprError {
        ExprError::at(self.offset(), message)
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.keyword(word);
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat_op(&mut self, ops: &[&'static str]) -> Option<&'static str> {
        match self.peek() {
            Tok::Op(op) if ops.contains(op) => {
                let op = *op;
                self.pos += 1;
                Some(op)
            }
            _ => None,
        }
    }

    fn expr(&mut self) -> Result<Ast, ExprError> {
        self.or()
    }

    fn or(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.operand("or", Self::and)?;
            left = Ast::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.not()?;
        while self.eat_keyword("and") {
            let right = self.operand("and", Self::not)?;
            left = Ast::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Ast, ExprError> {
        if self.eat_keyword("not") {
            let inner = self.operand("not", Self::not)?;
            return Ok(Ast::Unary(UnOp::Not, Box::new(inner)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Ast, ExprError> {
        let left = self.concat()?;
        if let Some(op) = self.eat_op(&["==", "=", "!=", "<>", "<", "<=", ">", ">="]) {
            let right = self.operand(op, Self::concat)?;
            let op = match op {
                "==" | "=" => BinOp::Eq,
                "!=" | "<>" => BinOp::Ne,
                "<" => BinOp::Lt,
                "<=" => BinOp::Le,
                ">" => BinOp::Gt,
                _ => BinOp::Ge,
            };
            if let Tok::Op(next @ ("==" | "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=")) =
                self.peek()
            {
                let next = *next;
                return Err(self.error(format!(
                    "comparisons do not chain: use `and` between them (`a < b and b {next} c`)"
                )));
            }
            return Ok(Ast::Binary(op, Box::new(left), Box::new(right)));
        }
        if self.eat_keyword("is") {
            let negated = self.eat_keyword("not");
            if !self.eat_keyword("null") {
                return Err(self.error("expected `null` after `is` (`x is null`, `x is not null`)"));
            }
            return Ok(Ast::IsNull {
                expr: Box::new(left),
                negated,
            });
        }
        let negated = self.keyword("not")
            && matches!(self.toks.get(self.pos + 1), Some((Tok::Ident(s), _)) if s.eq_ignore_ascii_case("in"));
        if negated {
            self.pos += 1;
        }
        if self.eat_keyword("in") {
            if self.bump() != Tok::LParen {
                self.pos -= 1;
                return Err(self.error("expected `(` after `in`: `status in (\"new\", \"paid\")`"));
            }
            let list = self.list()?;
            if list.is_empty() {
                return Err(self.error("`in ()` needs at least one value"));
            }
            return Ok(Ast::In {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        Ok(left)
    }

    fn concat(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.sum()?;
        while self.eat_op(&["||"]).is_some() {
            let right = self.operand("||", Self::sum)?;
            left = Ast::Binary(BinOp::Concat, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.product()?;
        while let Some(op) = self.eat_op(&["+", "-"]) {
            let right = self.operand(op, Self::product)?;
            let op = if op == "+" { BinOp::Add } else { BinOp::Sub };
            left = Ast::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("%") => BinOp::Rem,
                _ => break,
            };
            let symbol = self.bump().to_string();
            let right = self.operand(&symbol, Self::unary)?;
            left = Ast::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        if self.eat_op(&["-"]).is_some() {
            let inner = self.operand("-", Self::unary)?;
            return Ok(match inner {
                Ast::Lit(Value::Int(i)) => Ast::Lit(Value::Int(i.wrapping_neg())),
                Ast::Lit(Value::Float(f)) => Ast::Lit(Value::Float(-f)),
                other => Ast::Unary(UnOp::Neg, Box::new(other)),
            });
        }
        self.atom()
    }

    /// The right side of `op`, or an error that names `op`.
    fn operand(
        &mut self,
        op: &str,
        next: fn(&mut Self) -> Result<Ast, ExprError>,
    ) -> Result<Ast, ExprError> {
        if matches!(self.peek(), Tok::End | Tok::RParen | Tok::Comma)
            || matches!(self.peek(), Tok::Ident(s) if ["and", "or"].iter().any(|k| s.eq_ignore_ascii_case(k)))
        {
            let found = self.peek().to_string();
            let op = op.trim_matches('`');
            return Err(self.error(format!("expected a value after `{op}`, found {found}")));
        }
        next(self)
    }

    fn atom(&mut self) -> Result<Ast, ExprError> {
        let offset = self.offset();
        match self.bump() {
            Tok::Num(n) => Ok(Ast::Lit(n.into_value())),
            Tok::Str(s) => Ok(Ast::Lit(Value::Text(s))),
            Tok::Quoted(name) => Ok(Ast::Column { name, offset }),
            Tok::LParen => {
                let inner = self.expr()?;
                match self.bump() {
                    Tok::RParen => Ok(inner),
                    tok => {
                        self.pos -= 1;
                        Err(self.error(format!("expected `)` to close the `(`, found {tok}")))
                    }
                }
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => return Ok(Ast::Lit(Value::Bool(true))),
                    "false" => return Ok(Ast::Lit(Value::Bool(false))),
                    "null" => return Ok(Ast::Lit(Value::Null)),
                    "and" | "or" | "not" | "is" | "in" => {
                        self.pos -= 1;
                        return Err(self.error(format!(
                            "expected a value, found the keyword `{word}` (quote a column of that name in backticks)"
                        )));
                    }
                    _ => {}
                }
                if *self.peek() == Tok::LParen {
                    self.pos += 1;
                    if *self.peek() == Tok::Star {
                        self.pos += 1;
                        if self.bump() != Tok::RParen {
                            self.pos -= 1;
                            return Err(self.error("expected `)` after `*`"));
                        }
                        return Ok(Ast::Call {
                            name: lower,
                            args: Vec::new(),
                            star: true,
                            offset,
                        });
                    }
                    let args = self.list()?;
                    return Ok(Ast::Call {
                        name: lower,
                        args,
                        star: false,
                        offset,
                    });
                }
                Ok(Ast::Column { name: word, offset })
            }
            tok => {
                self.pos -= 1;
                Err(self.error(format!("expected a value, found {tok}")))
            }
        }
    }

    /// `expr ("," expr)* ")"` after an opening parenthesis (or just `)`).
    fn list(&mut self) -> Result<Vec<Ast>, ExprError> {
        let mut items = Vec::new();
        if *self.peek() == Tok::RParen {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            match self.bump() {
                Tok::Comma => {}
                Tok::RParen => return Ok(items),
                tok => {
                    self.pos -= 1;
                    return Err(self.error(format!("expected `,` or `)`, found {tok}")));
                }
            }
        }
    }
}

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Coalesce,
    Concat,
    Lower,
    Upper,
    Trim,
    Length,
    Abs,
    Round,
    If,
}

/// (name, function, fewest arguments, most arguments)
const FUNCTIONS: [(&str, Func, usize, usize); 9] = [
    ("coalesce", Func::Coalesce, 1, usize::MAX),
    ("concat", Func::Concat, 1, usize::MAX),
    ("lower", Func::Lower, 1, 1),
    ("upper", Func::Upper, 1, 1),
    ("trim", Func::Trim, 1, 1),
    ("length", Func::Length, 1, 1),
    ("abs", Func::Abs, 1, 1),
    ("round", Func::Round, 1, 2),
    ("if", Func::If, 3, 3),
];

/// The aggregate functions `group_by` takes.
pub const AGGREGATES: [&str; 6] = ["count", "sum", "min", "max", "mean", "avg"];

/// An expression with its columns resolved to positions in a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Column(usize),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    In(Box<Expr>, Vec<Expr>, bool),
    Call(Func, Vec<Expr>),
}

/// Resolves column names against `columns`: an unknown name is an error
/// with the closest known name as a hint. Aggregate calls are refused here
/// (they belong in `group_by`'s `aggregate:`).
pub fn compile(ast: &Ast, columns: &[String]) -> Result<Expr, ExprError> {
    Ok(match ast {
        Ast::Lit(v) => Expr::Lit(v.clone()),
        Ast::Column { name, offset } => match columns.iter().position(|c| c == name) {
            Some(i) => Expr::Column(i),
            None => return Err(ExprError::at(*offset, unknown_column(name, columns))),
        },
        Ast::Unary(op, inner) => Expr::Unary(*op, Box::new(compile(inner, columns)?)),
        Ast::Binary(op, a, b) => Expr::Binary(
            *op,
            Box::new(compile(a, columns)?),
            Box::new(compile(b, columns)?),
        ),
        Ast::IsNull { expr, negated } => Expr::IsNull(Box::new(compile(expr, columns)?), *negated),
        Ast::In {
            expr,
            list,
            negated,
        } => Expr::In(
            Box::new(compile(expr, columns)?),
            list.iter()
                .map(|a| compile(a, columns))
                .collect::<Result<_, _>>()?,
            *negated,
        ),
        Ast::Call {
            name,
            args,
            star,
            offset,
        } => {
            if AGGREGATES.contains(&name.as_str()) {
                return Err(ExprError::at(
                    *offset,
                    format!("`{name}` aggregates rows: use it in `group_by`'s `aggregate:`"),
                ));
            }
            let Some((_, func, min, max)) = FUNCTIONS.iter().find(|(n, ..)| n == name) else {
                let names: Vec<&str> = FUNCTIONS.iter().map(|(n, ..)| *n).collect();
                let hint = closest(name, &names)
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                return Err(ExprError::at(
                    *offset,
                    format!(
                        "unknown function `{name}`; {hint}functions: {}",
                        names.join(", ")
                    ),
                ));
            };
            if *star || args.len() < *min || args.len() > *max {
                let wanted = match (min, max) {
                    (a, b) if a == b => format!("{a}"),
                    (a, &usize::MAX) => format!("at least {a}"),
                    (a, b) => format!("{a} or {b}"),
                };
                let given = if *star {
                    "`*`".to_string()
                } else {
                    args.len().to_string()
                };
                return Err(ExprError::at(
                    *offset,
                    format!("`{name}` takes {wanted} argument(s), not {given}"),
                ));
            }
            Expr::Call(
                *func,
                args.iter()
                    .map(|a| compile(a, columns))
                    .collect::<Result<_, _>>()?,
            )
        }
    })
}

/// "no column `x`" with a hint: the closest name, and the columns there are.
pub fn unknown_column(name: &str, columns: &[String]) -> String {
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let hint = closest(name, &names)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    let listed = if names.len() > 20 {
        format!("{}, …", names[..20].join(", "))
    } else {
        names.join(", ")
    };
    format!("no column `{name}`{hint}; the columns here are: {listed}")
}

/// The candidate closest to `name` by edit distance, if it is close.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), so `fromat` is nearer `format` than `from`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// What went wrong while evaluating, counted over rows for one log line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Issues {
    pub count: u64,
    pub first: Option<String>,
}

impl Issues {
    /// Count one problem; `what` describes it, and is only built for the
    /// first.
    pub fn note(&mut self, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(what());
        }
    }
}

impl Expr {
    /// The expression's value for `row`.
    pub fn eval(&self, row: &[Value], issues: &mut Issues) -> Value {
        match self {
            Expr::Lit(v) => v.clone(),
            Expr::Column(i) => row.get(*i).cloned().unwrap_or(Value::Null),
            Expr::Unary(UnOp::Not, inner) => match truth(&inner.eval(row, issues), issues) {
                Some(b) => Value::Bool(!b),
                None => Value::Null,
            },
            Expr::Unary(UnOp::Neg, inner) => {
                let v = inner.eval(row, issues);
                match number(&v, "-", issues) {
                    Some(Num::Int(i)) => Value::Int(i.wrapping_neg()),
                    Some(Num::Float(f)) => Value::Float(-f),
                    None => Value::Null,
                }
            }
            Expr::Binary(BinOp::And, a, b) => {
                let a = truth(&a.eval(row, issues), issues);
                if a == Some(false) {
                    return Value::Bool(false);
                }
                match (a, truth(&b.eval(row, issues), issues)) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            Expr::Binary(BinOp::Or, a, b) => {
                let a = truth(&a.eval(row, issues), issues);
                if a == Some(true) {
                    return Value::Bool(true);
                }
                match (a, truth(&b.eval(row, issues), issues)) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            Expr::Binary(op, a, b) => {
                let a = a.eval(row, issues);
                let b = b.eval(row, issues);
                binary(*op, &a, &b, issues)
            }
            Expr::IsNull(inner, negated) => {
                Value::Bool(inner.eval(row, issues).is_null() != *negated)
            }
            Expr::In(inner, list, negated) => {
                let v = inner.eval(row, issues);
                if v.is_null() {
                    return Value::Null;
                }
                let mut saw_null = false;
                for item in list {
                    let item = item.eval(row, issues);
                    match equal(&v, &item, issues) {
                        Some(true) => return Value::Bool(!negated),
                        Some(false) => {}
                        None => saw_null = true,
                    }
                }
                if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                }
            }
            Expr::Call(func, args) => call(*func, args, row, issues),
        }
    }

    /// True when the expression holds for `row`: null is not true.
    pub fn holds(&self, row: &[Value], issues: &mut Issues) -> bool {
        match self.eval(row, issues) {
            Value::Bool(b) => b,
            Value::Null => false,
            other => truth(&other, issues).unwrap_or(false),
        }
    }
}

/// A value as a condition: a boolean, raw text that reads as one, or null.
fn truth(v: &Value, issues: &mut Issues) -> Option<bool> {
    match v {
        Value::Null => None,
        other => {
            let b = other.as_bool();
            if b.is_none() {
                let kind = other.kind();
                let text = other.to_text().unwrap_or_default();
                issues.note(|| format!("{kind} {text:?} used as a condition"));
            }
            b
        }
    }
}

fn number(v: &Value, op: &str, issues: &mut Issues) -> Option<Num> {
    if v.is_null() {
        return None;
    }
    let n = v.as_num();
    if n.is_none() {
        let text = v.to_text().unwrap_or_default();
        let kind = v.kind();
        issues.note(|| format!("`{op}` needs numbers, got {kind} {text:?}"));
    }
    n
}

fn equal(a: &Value, b: &Value, issues: &mut Issues) -> Option<bool> {
    if a.is_null() || b.is_null() {
        return None;
    }
    match compare(a, b) {
        Some(ord) => Some(ord == Ordering::Equal),
        None => {
            let (ka, kb) = (a.kind(), b.kind());
            let (ta, tb) = (
                a.to_text().unwrap_or_default(),
                b.to_text().unwrap_or_default(),
            );
            issues.note(|| format!("cannot compare {ka} {ta:?} with {kb} {tb:?}"));
            None
        }
    }
}

fn binary(op: BinOp, a: &Value, b: &Value, issues: &mut Issues) -> Value {
    match op {
        BinOp::Eq | BinOp::Ne => match equal(a, b, issues) {
            Some(eq) => Value::Bool(eq == (op == BinOp::Eq)),
            None => Value::Null,
        },
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            if a.is_null() || b.is_null() {
                return Value::Null;
            }
            let Some(ord) = compare(a, b) else {
                let (ka, kb) = (a.kind(), b.kind());
                let (ta, tb) = (
                    a.to_text().unwrap_or_default(),
                    b.to_text().unwrap_or_default(),
                );
                issues.note(|| format!("cannot compare {ka} {ta:?} with {kb} {tb:?}"));
                return Value::Null;
            };
            Value::Bool(match op {
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        BinOp::Concat => match (a.to_text(), b.to_text()) {
            (Some(x), Some(y)) => Value::Text(x + &y),
            _ => Value::Null,
        },
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
            let symbol = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                _ => "%",
            };
            let (Some(x), Some(y)) = (number(a, symbol, issues), number(b, symbol, issues)) else {
                return Value::Null;
            };
            arithmetic(op, x, y, issues)
        }
        BinOp::And | BinOp::Or => Value::Null,
    }
}

fn arithmetic(op: BinOp, x: Num, y: Num, issues: &mut Issues) -> Value {
    if matches!(op, BinOp::Div | BinOp::Rem) && y.as_f64() == 0.0 {
        issues.note(|| "division by zero".to_string());
        return Value::Null;
    }
    if let (Num::Int(a), Num::Int(b)) = (x, y) {
        let exact = match op {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::Rem => a.checked_rem(b),
            _ => None,
        };
        if let Some(i) = exact {
            return Value::Int(i);
        }
    }
    let (a, b) = (x.as_f64(), y.as_f64());
    let f = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        _ => a % b,
    };
    Value::Float(f)
}

fn call(func: Func, args: &[Expr], row: &[Value], issues: &mut Issues) -> Value {
    let arg =
        |i: usize, issues: &mut Issues| args.get(i).map_or(Value::Null, |a| a.eval(row, issues));
    match func {
        Func::Coalesce => {
            for a in args {
                let v = a.eval(row, issues);
                if !v.is_null() {
                    return v;
                }
            }
            Value::Null
        }
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                a.eval(row, issues).write_text(&mut out);
            }
            Value::Text(out)
        }
        Func::Lower | Func::Upper | Func::Trim | Func::Length => {
            let Some(text) = arg(0, issues).to_text() else {
                return Value::Null;
            };
            match func {
                Func::Lower => Value::Text(text.to_lowercase()),
                Func::Upper => Value::Text(text.to_uppercase()),
                Func::Trim => Value::Text(text.trim().to_string()),
                _ => Value::Int(text.chars().count() as i64),
            }
        }
        Func::Abs => match number(&arg(0, issues), "abs", issues) {
            Some(Num::Int(i)) => i
                .checked_abs()
                .map_or(Value::Float((i as f64).abs()), Value::Int),
            Some(Num::Float(f)) => Value::Float(f.abs()),
            None => Value::Null,
        },
        Func::Round => {
            let x = number(&arg(0, issues), "round", issues);
            let digits = if args.len() > 1 {
                match number(&arg(1, issues), "round", issues) {
                    Some(Num::Int(d)) => d.clamp(-15, 15) as i32,
                    _ => return Value::Null,
                }
            } else {
                0
            };
            match x {
                Some(Num::Int(i)) if digits >= 0 => Value::Int(i),
                Some(n) => {
                    let scale = 10f64.powi(digits);
                    let r = (n.as_f64() * scale).round() / scale;
                    if digits <= 0 && r.abs() < 9e15 {
                        Value::Int(r as i64)
                    } else {
                        Value::Float(r)
                    }
                }
                None => Value::Null,
            }
        }
        Func::If => match truth(&arg(0, issues), issues) {
            Some(true) => arg(1, issues),
            _ => arg(2, issues),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        ["id", "amount", "status", "note", "order id"]
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn row() -> Vec<Value> {
        vec![
            Value::Raw("7".into()),
            Value::Raw("150.5".into()),
            Value::Raw("paid".into()),
            Value::Null,
            Value::Raw("A-7".into()),
        ]
    }

    fn eval(src: &str) -> Value {
        let ast = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
        let expr = compile(&ast, &cols()).unwrap_or_else(|e| panic!("{}", e.render(src)));
        expr.eval(&row(), &mut Issues::default())
    }

    fn error(src: &str) -> String {
        let result = parse(src).and_then(|ast| compile(&ast, &cols()));
        match result {
            Err(e) => e.render(src),
            Ok(expr) => panic!("{src:?} parsed as {expr:?}"),
        }
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(
            eval(r#"amount > 100 and status != "new""#),
            Value::Bool(true)
        );
        assert_eq!(eval("amount >= 150.5 AND id = 7"), Value::Bool(true));
        assert_eq!(eval("amount < 100 or id == 8"), Value::Bool(false));
        assert_eq!(eval("not (amount < 100)"), Value::Bool(true));
        assert_eq!(eval("id <> 7"), Value::Bool(false));
        assert_eq!(eval(r#"status in ("new", 'paid')"#), Value::Bool(true));
        assert_eq!(eval(r#"status not in ("new", "paid")"#), Value::Bool(false));
        assert_eq!(eval("`order id` == 'A-7'"), Value::Bool(true));
    }

    #[test]
    fn precedence_binds_and_tighter_than_or() {
        // true or (false and false)
        assert_eq!(eval("id == 7 or id == 1 and id == 2"), Value::Bool(true));
        assert_eq!(eval("(id == 7 or id == 1) and id == 2"), Value::Bool(false));
        assert_eq!(eval("1 + 2 * 3"), Value::Int(7));
        assert_eq!(eval("(1 + 2) * 3"), Value::Int(9));
        assert_eq!(eval("-id + 10"), Value::Int(3));
        assert_eq!(eval("10 - 2 - 3"), Value::Int(5));
    }

    #[test]
    fn nulls_follow_sql() {
        assert_eq!(eval("note is null"), Value::Bool(true));
        assert_eq!(eval("note is not null"), Value::Bool(false));
        assert_eq!(eval("note == 'x'"), Value::Null);
        assert_eq!(eval("note + 1"), Value::Null);
        assert_eq!(eval("note == 'x' or id == 7"), Value::Bool(true));
        assert_eq!(eval("note == 'x' and id == 7"), Value::Null);
        assert_eq!(eval("note == 'x' and id == 8"), Value::Bool(false));
        assert_eq!(eval("not (note == 'x')"), Value::Null);
        assert_eq!(eval("note in ('x')"), Value::Null);
        assert_eq!(eval("coalesce(note, status)"), Value::Raw("paid".into()));
    }

    #[test]
    fn arithmetic_and_text() {
        assert_eq!(eval("amount * 2"), Value::Float(301.0));
        assert_eq!(eval("id / 2"), Value::Float(3.5));
        assert_eq!(eval("id % 4"), Value::Int(3));
        assert_eq!(eval("id / 0"), Value::Null);
        assert_eq!(eval("status || '-' || id"), Value::Text("paid-7".into()));
        assert_eq!(eval("status || note"), Value::Null);
        assert_eq!(
            eval("concat(status, note, '!')"),
            Value::Text("paid!".into())
        );
        assert_eq!(eval("upper(status)"), Value::Text("PAID".into()));
        assert_eq!(eval("length(`order id`)"), Value::Int(3));
        assert_eq!(eval("round(amount)"), Value::Int(151));
        assert_eq!(eval("round(amount / 3, 2)"), Value::Float(50.17));
        assert_eq!(eval("abs(-3)"), Value::Int(3));
        assert_eq!(
            eval("if(amount > 100, 'big', 'small')"),
            Value::Text("big".into())
        );
        assert_eq!(eval("1_000 + 0.5"), Value::Float(1000.5));
    }

    #[test]
    fn wrong_kinds_are_null_and_counted() {
        let ast = parse("status > 1").unwrap_or_else(|e| panic!("{e:?}"));
        let expr = compile(&ast, &cols()).unwrap_or_else(|e| panic!("{e:?}"));
        let mut issues = Issues::default();
        assert_eq!(expr.eval(&row(), &mut issues), Value::Null);
        assert!(!expr.holds(&row(), &mut issues));
        assert_eq!(issues.count, 2);
        assert_eq!(
            issues.first.as_deref(),
            Some(r#"cannot compare text "paid" with an integer "1""#)
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        assert_eq!(
            error("amount > and status"),
            "expected a value after `>`, found `and`\n    amount > and status\n             ^"
        );
        assert!(error("amout > 100").starts_with(
            "no column `amout` (did you mean `amount`?); the columns here are: id, amount, status, note, order id\n"
        ));
        assert!(error("amount > 100 &&  id").contains("unexpected `&` (write `and`)"));
        assert!(error("(amount > 1").contains("expected `)` to close the `(`, found the end"));
        assert!(error("amount > 1)").contains("this `)` has no matching `(`"));
        assert!(error("amount 100").contains("expected an operator"));
        assert!(error("status == \"new").contains("this string is not closed\n"));
        assert!(error("1 < amount < 5").contains("comparisons do not chain"));
        assert!(error("x is nul").contains("expected `null` after `is`"));
        assert!(error("lowr(status)").contains("unknown function `lowr`; did you mean `lower`?"));
        assert!(error("round()").contains("`round` takes 1 or 2 argument(s), not 0"));
        assert!(error("sum(amount) > 1").contains("use it in `group_by`'s `aggregate:`"));
        assert!(error("").contains("the expression is empty"));
        assert!(error("status in 'a'").contains("expected `(` after `in`"));
        assert!(error("2x > 1").contains("a name cannot start with a digit"));
        assert!(error("`unclosed > 1").contains("not closed"));
        assert!(error("status == 'a\\q'").contains("unknown escape `\\q`"));
    }

    #[test]
    fn hints_prefer_swapped_letters() {
        assert_eq!(edit_distance("fromat", "format"), 1);
        assert_eq!(edit_distance("fromat", "from"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("fromat", &["from", "format"]), Some("format"));
        assert_eq!(closest("zzz", &["from", "format"]), None);
    }

    #[test]
    fn carets_count_characters_not_bytes() {
        let src = "\"é\" == ?";
        let rendered = error(src);
        assert!(rendered.ends_with("\n           ^"), "{rendered}");
    }
}
