//! OpenID Connect: ID tokens (Core §2, §3.1.3.6), the claims they and UserInfo
//! carry (Core §5, with the embedder's [`claims::ClaimsSource`]), UserInfo
//! (Core §5.3), RP-Initiated Logout and Back-Channel Logout.

pub(crate) mod backchannel;
pub mod claims;
pub(crate) mod id_token;
pub(crate) mod logout;
pub(crate) mod userinfo;
