import { runTransportContract } from '../../transport/contract.js';
import { openTcpPair } from './helpers.js';

runTransportContract('TCP with mutual TLS', () => openTcpPair(true));
runTransportContract('TCP insecure', () => openTcpPair(false));
