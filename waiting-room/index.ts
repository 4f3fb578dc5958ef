export { issueAdmissionToken, verifyAdmissionToken, type AdmissionClaims } from './admission-token.js';
