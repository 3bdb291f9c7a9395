//! Tests of the redaction rules: what is masked, what is left alone, the keyword scan against
//! the keyword regex, and idempotence.

mod second_pass {
    use super::super::*;

    #[test]
    fn a_second_pass_masks_and_counts_nothing() {
        let r = Redactor::new(true);
        for text in [
            "postgres://admin:hunter2@db:5432/x",
            "password=hunter2 token=abc AKIAIOSFODNN7EXAMPLE",
        ] {
            let (once, n) = r.text(text);
            assert!(n > 0, "{text}");
            let (twice, m) = r.text(&once);
            assert_eq!((twice.as_ref(), m), (once.as_ref(), 0), "{text}");
        }
        let mut v = serde_json::json!({"DB_PASSWORD": "x", "note": "password=y"});
        assert_eq!(r.json(&mut v), 2);
        assert_eq!(r.json(&mut v), 0);
    }
}

mod keyword_scan {
    use proptest::prelude::*;

    use super::super::*;

    /// Every keyword in several casings, inside, at the edges of and cut from other text, and
    /// the non-ASCII letters that fold onto ASCII ones: the scan says what the regex says.
    #[test]
    fn agrees_with_the_regex() {
        let words = [
            "AKIA",
            "FwoGZXIvYXdzE",
            "iqojb3jpz2lu",
            ".eyJ",
            "asia",
            "AiDa",
            "AROA",
            "AIPA",
            "ANPA",
            "ANVA",
            "AGPA",
            "APKA",
            "ABIA",
            "ACCA",
            "secret",
            "TOKEN",
            "Bearer",
            "authoriz",
            "eyJ",
            "EYJ",
            "pass",
            "pwd",
            "api_key",
            "apikey",
            "API_KEY",
            "private",
            "://",
            "ghp_",
            "gho_",
            "GHU_",
            "ghs_",
            "ghr_",
            "ghx_",
            "gh_",
            "github_pat_",
            "GitHub_PAT_",
            "xox",
            "XOX",
        ];
        let mut cases = vec![String::new(), "a".into(), "plain words only".into(), ":/".into()];
        for w in words {
            for text in [
                w.to_owned(),
                format!("x{w}y"),
                format!("the {w}"),
                w[..w.len() - 1].to_owned(),
                format!("é{}", &w[1..]),
            ] {
                cases.push(text);
            }
        }
        cases.extend(["to\u{212A}en", "ſecret", "paſs", "\u{212A}", "ſ", "ſtop", "a\u{212A}ia"].map(String::from));
        cases.extend(throughput_sample().lines().take(400).map(String::from));
        for c in &cases {
            assert_eq!(has_keyword(c), KEYWORDS.is_match(c), "{c:?}");
        }
    }

    /// A session token alone is found (its rule had no keyword before); a cursor of this server
    /// (`eyJ…` without a second `.eyJ`) is not a keyword, so paged results skip the rules.
    #[test]
    fn session_tokens_alone_and_cursors() {
        let r = Redactor::new(true);
        let token = format!("IQoJb3JpZ2luX2VjEJr{}", "A".repeat(40));
        assert_eq!(r.text(&format!("got {token} back")).1, 1);
        let cursor = "eyJ0IjoiWlRKbExUSXpOVFV3TFRFek1TMHhNMkkwWVRNeVpRPT0ifQ.J3VtLTWhM_FoOiX-.kDBpjf6_tDW0LCmyyBkUyw";
        assert!(!has_keyword(cursor));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(r.text(jwt).0, "[REDACTED:jwt]");
        // The older token format (also what moto's STS hands out).
        let old = format!("FQoGZXIvYXdzEBYaD{}", "B".repeat(40));
        assert_eq!(r.text(&format!("token was {old}")).1, 1);
    }

    /// A presigned URL keeps its key id and session token (it would not work otherwise), while the
    /// same token anywhere else is masked.
    #[test]
    fn presigned_urls_stay_usable() {
        let r = Redactor::new(true);
        let token = format!("IQoJb3JpZ2luX2VjEJr{}", "A".repeat(40));
        let url = format!(
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20261130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261130T000000Z&X-Amz-Expires=900&X-Amz-Security-Token={token}&X-Amz-SignedHeaders=host&X-Amz-Signature=abc"
        );
        assert_eq!(r.text(&url), (Cow::Borrowed(url.as_str()), 0));
        let unsigned = url.replace("&X-Amz-Signature=abc", "");
        assert!(r.text(&unsigned).1 >= 2, "{:?}", r.text(&unsigned));
    }

    proptest! {
        #[test]
        fn agrees_with_the_regex_on_any_text(s in "[a-zA-Z0-9_:/ .ſ\u{212A}é-]{0,40}") {
            prop_assert_eq!(has_keyword(&s), KEYWORDS.is_match(&s));
        }
    }
}

mod rules {
    use serde_json::json;

    use super::super::*;

    fn r(s: &str) -> (String, usize) {
        let (t, n) = Redactor::new(true).text(s);
        (t.into_owned(), n)
    }

    fn masked(s: &str) -> String {
        r(s).0
    }

    #[test]
    fn aws_credentials() {
        assert_eq!(
            masked("key AKIAIOSFODNN7EXAMPLE used"),
            "key [REDACTED:aws-access-key-id] used"
        );
        assert_eq!(masked("ASIAY34FZKBOKMUTVV7A"), "[REDACTED:aws-access-key-id]");
        assert_eq!(
            masked("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "aws_secret_access_key = [REDACTED:aws-secret-access-key]"
        );
        assert_eq!(
            masked(
                r#"{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#
            ),
            r#"{"AccessKeyId":"[REDACTED:aws-access-key-id]","SecretAccessKey":"[REDACTED:aws-secret-access-key]"}"#
        );
        assert_eq!(
            masked("the secret key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY."),
            "the secret key is [REDACTED:aws-secret-access-key]."
        );
        assert_eq!(
            masked("export AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDHhBTEXAMPLETOKEN1234567890abcdef"),
            "export AWS_SESSION_TOKEN=[REDACTED:aws-session-token]"
        );
        assert_eq!(
            masked("?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2FwEaCXVzLWVhc3QtMSJHMEUCIQ&X-Amz-Date=1"),
            "?X-Amz-Security-Token=[REDACTED:aws-session-token]&X-Amz-Date=1"
        );
        assert_eq!(
            masked("token IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH"),
            "token [REDACTED:aws-session-token]"
        );
    }

    #[test]
    fn bearer_jwt_and_vendor_tokens() {
        assert_eq!(
            masked("Authorization: Bearer abcDEF123456789xyz"),
            "Authorization: Bearer [REDACTED:bearer-token]"
        );
        assert_eq!(
            masked("curl -H 'authorization: Basic dXNlcjpwYXNz'"),
            "curl -H 'authorization: Basic [REDACTED:authorization]'"
        );
        assert_eq!(
            masked("sent bearer 0123456789abcdef"),
            "sent bearer [REDACTED:bearer-token]"
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(r(&format!("cookie {jwt};")), ("cookie [REDACTED:jwt];".into(), 1));
        assert_eq!(
            masked("ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 x"),
            "[REDACTED:github-token] x"
        );
        let slack = ["xoxb", "123456789012", "abcdefghijKLMNOP"].join("-");
        assert_eq!(masked(&format!("hook {slack}")), "hook [REDACTED:slack-token]");
    }

    #[test]
    fn key_value_pairs_keep_the_key() {
        for (input, want) in [
            ("password=hunter2&user=bob", "password=[REDACTED:password]&user=bob"),
            ("db_password: hunter2", "db_password: [REDACTED:password]"),
            (r#""client_secret": "a b c""#, r#""client_secret": "[REDACTED:secret]""#),
            ("API_KEY='k-123'", "API_KEY='[REDACTED:api-key]'"),
            ("apikey=abc", "apikey=[REDACTED:api-key]"),
            ("access_token=abc.def", "access_token=[REDACTED:token]"),
            ("pwd = s3cret", "pwd = [REDACTED:password]"),
            ("passwd:x", "passwd:[REDACTED:password]"),
            (
                r#"{\"password\":\"hunter2\"}"#,
                r#"{\"password\":\"[REDACTED:password]\"}"#,
            ),
            (
                "https://h/cb?code=1&token=abc123&x=2",
                "https://h/cb?code=1&token=[REDACTED:token]&x=2",
            ),
        ] {
            assert_eq!(masked(input), want, "{input}");
        }
    }

    #[test]
    fn private_keys_and_connection_strings() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc==\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            r(&format!("key:\n{pem}\nafter")),
            ("key:\n[REDACTED:private-key]\nafter".into(), 1)
        );
        assert_eq!(
            masked("-----BEGIN PRIVATE KEY-----\nMIIE (truncated"),
            "[REDACTED:private-key]"
        );
        assert_eq!(
            masked("postgres://app:s3cr3t@db:5432/app and mongodb+srv://u:p%40ss@c.example.net/"),
            "postgres://app:[REDACTED:password]@db:5432/app and mongodb+srv://u:[REDACTED:password]@c.example.net/"
        );
        assert_eq!(
            masked("redis://:pw@cache:6379"),
            "redis://:[REDACTED:password]@cache:6379"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for clean in [
            "RequestId: 3f2a1b4c-9d8e-4f70-a1b2-c3d4e5f60718 Duration: 12.3 ms",
            "x-amzn-RequestId: KJ4TN1QU3DS0R2M6V4Q5SEXAMPLEAAAAAAAAAAAAAAAAAAAAAAAA",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
            "arn:aws:iam::123456789012:role/deploy-token-rotator",
            "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "the bearer of bad news asked for a password reset; tokens used: 1234",
            r#"{"NextToken":"AAAAAQAAAAEAAABkZXYtbG9n","nextForwardToken":"f/3849","ClientToken":"abc-123"}"#,
            "max_tokens=4096 stop_reason=max_tokens",
            "SecretId: prod/db SecretArn: arn:aws:secretsmanager:us-east-1:1:secret:x",
            "Asia Pacific (Tokyo) ap-northeast-1",
            "https://example.com/path?x=1 and user@example.com",
            "AKIA is the prefix of an access key id",
        ] {
            assert_eq!(r(clean), (clean.to_owned(), 0), "{clean}");
        }
    }

    #[test]
    fn clean_text_is_not_copied() {
        let red = Redactor::new(true);
        assert!(matches!(red.text("plain log line 42"), (Cow::Borrowed(_), 0)));
        assert!(matches!(red.text("tokens used: 5 of 10"), (Cow::Borrowed(_), 0)));
        let off = Redactor::new(false);
        assert!(!off.is_enabled());
        assert!(matches!(off.text("password=hunter2"), (Cow::Borrowed(_), 0)));
    }

    #[test]
    fn json_masks_values_in_place() {
        let mut v = json!({
            "FunctionName": "orders",
            "Environment": {"Variables": {
                "DB_PASSWORD": "hunter2",
                "STRIPE_API_KEY": "sk_live_x",
                "LOG_LEVEL": "debug",
                "NEXT_TOKEN": "keep",
                "DSN": "postgres://app:pw@db/app"
            }},
            "Credentials": {"SessionToken": "short", "SecretAccessKey": "anything", "Expiration": "2026-11-30T12:00:00Z"},
            "lines": ["ok", "AKIAIOSFODNN7EXAMPLE", 3, null, ""],
            "password": 42
        });
        let n = Redactor::new(true).json(&mut v);
        assert_eq!(n, 6);
        assert_eq!(
            v,
            json!({
                "FunctionName": "orders",
                "Environment": {"Variables": {
                    "DB_PASSWORD": "[REDACTED:password]",
                    "STRIPE_API_KEY": "[REDACTED:api-key]",
                    "LOG_LEVEL": "debug",
                    "NEXT_TOKEN": "keep",
                    "DSN": "postgres://app:[REDACTED:password]@db/app"
                }},
                "Credentials": {"SessionToken": "[REDACTED:aws-session-token]", "SecretAccessKey": "[REDACTED:aws-secret-access-key]", "Expiration": "2026-11-30T12:00:00Z"},
                "lines": ["ok", "[REDACTED:aws-access-key-id]", 3, null, ""],
                "password": 42
            })
        );
        let mut untouched = v.clone();
        assert_eq!(Redactor::new(false).json(&mut untouched), 0);
    }

    #[test]
    fn sensitive_keys() {
        for k in [
            "password",
            "DB_PASSWORD",
            "SecretAccessKey",
            "client-secret",
            "api_key",
            "x-api-key",
            "AccessToken",
            "token",
        ] {
            assert!(sensitive_key(k), "{k}");
        }
        for k in [
            "NextToken",
            "nextForwardToken",
            "ClientToken",
            "SecretArn",
            "SecretId",
            "KeyName",
            "max_tokens",
            "user",
        ] {
            assert!(!sensitive_key(k), "{k}");
        }
    }

    #[test]
    fn a_megabyte_of_logs() {
        let (text, secrets) = sample(1 << 20);
        assert!(text.len() >= 1 << 20);
        assert_eq!(throughput_sample(), text);
        let (out, n) = Redactor::new(true).text(&text);
        assert_eq!(n, secrets);
        for leaked in [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI",
            "abcDEF123456789xyz",
            "eyJhbGci",
            "s3cr3t-P4ss",
            "hunter2",
            "abc123def456",
            "ghp_",
            "xoxb-",
            "IQoJb3JpZ2lu",
        ] {
            assert!(!out.contains(leaked), "{leaked} leaked");
        }
        // Everything but the secret lines is unchanged.
        let changed = text.lines().zip(out.lines()).filter(|(a, b)| a != b).count();
        assert_eq!(changed, secrets);
        assert_eq!(text.lines().count(), out.lines().count());
    }
}
